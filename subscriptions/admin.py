"""Staff's view of scheduled delivery: every subscription, its runs, and the delivery log."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from subscriptions.models import Delivery, Subscription, SubscriptionRun
from subscriptions.services import next_run_of
from subscriptions.signing import new_webhook_secret


class RunInline(admin.TabularInline):  # type: ignore[type-arg]
    model = SubscriptionRun
    fields = ("created_at", "trigger", "start", "end", "status", "report", "error")
    readonly_fields = fields
    extra = 0
    max_num = 0
    show_change_link = True
    ordering = ("-created_at",)


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("id", "organization", "cadence", "send_hour", "timezone", "channels", "next_run_at")
    list_filter = ("cadence", "organization")
    search_fields = ("id", "organization__slug", "webhook_url")
    fields = (
        "organization",
        "cadence",
        "send_hour",
        "timezone",
        "sla_target",
        "email_to",
        "webhook_url",
        "next_run_at",
    )
    readonly_fields = ("next_run_at",)
    inlines = [RunInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # webhooks are https (Django 6's default)

    def save_model(self, request: HttpRequest, obj: Subscription, form: Any, change: bool) -> None:
        """A new schedule counts from now; a subscription made here gets a secret, shown once as a message."""
        if not change:
            obj.webhook_secret = new_webhook_secret()
            messages.warning(request, f"The webhook secret, shown only now: {obj.webhook_secret}")
        if not change or {"cadence", "send_hour", "timezone"} & set(form.changed_data):
            obj.next_run_at = next_run_of(obj, timezone.now())
        super().save_model(request, obj, form, change)


@admin.register(SubscriptionRun)
class SubscriptionRunAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("id", "subscription", "trigger", "start", "end", "status", "report", "created_at")
    list_filter = ("status", "trigger")
    readonly_fields = [field.name for field in SubscriptionRun._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("started_at", "subscription", "channel", "target", "attempt", "status", "response", "retry_at")
    list_filter = ("status", "channel")
    search_fields = ("target", "message_id", "subscription__id")
    readonly_fields = [field.name for field in Delivery._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Delivery]:
        return super().get_queryset(request).select_related("subscription__organization")
