"""The portal's scheduled delivery: an organization's subscriptions, one subscription's settings and deliveries.

The same services as the API (:mod:`subscriptions.services`), the same
scoped reads (:mod:`subscriptions.selectors`): members read, owners create,
change, rotate, send now and delete. The webhook secret is shown once, on
the page that answers the create or the rotation, and never stored in the
session.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from organizations.models import Organization
from organizations.scoping import may_trigger
from portal.selectors import organization_for
from portal.views import frame, refuse_over_rate
from subscriptions.models import Subscription
from subscriptions.selectors import subscription_deliveries, subscriptions_visible_to
from subscriptions.sending import send_now
from subscriptions.services import subscription_create, subscription_rotate_secret, subscription_update

DELIVERIES_PER_PAGE = 25


class SubscriptionForm(forms.Form):
    cadence = forms.ChoiceField(choices=Subscription.Cadence.choices)
    send_hour = forms.TypedChoiceField(
        choices=[(hour, f"{hour:02d}:00") for hour in range(24)], coerce=int, initial=8, label="Send at (local)"
    )
    timezone = forms.CharField(max_length=64, help_text="IANA name, e.g. America/Chicago.")
    sla_target = forms.DecimalField(max_digits=6, decimal_places=3, min_value=0, max_value=100, label="SLA target %")
    email_to = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Email recipients",
        help_text="One address per line, or separated by commas.",
    )
    webhook_url = forms.CharField(required=False, max_length=2000, label="Webhook URL", help_text="An https URL.")

    def clean_email_to(self) -> list[str]:
        text: str = self.cleaned_data["email_to"]
        return [part.strip() for part in text.replace(",", "\n").splitlines() if part.strip()]

    def add_model_errors(self, error: ValidationError) -> None:
        for field, field_messages in error.message_dict.items():
            self.add_error(None if field == "__all__" else field, field_messages)

    @classmethod
    def of(cls, subscription: Subscription, data: Any = None) -> SubscriptionForm:
        initial = {
            "cadence": subscription.cadence,
            "send_hour": subscription.send_hour,
            "timezone": subscription.timezone,
            "sla_target": subscription.sla_target,
            "email_to": "\n".join(subscription.email_to),
            "webhook_url": subscription.webhook_url,
        }
        return cls(data=data, initial=initial)


def _owned(request: HttpRequest, organization: Organization) -> None:
    if not may_trigger(request.user, organization):
        raise PermissionDenied("only the organization's owners manage its subscriptions")


def _subscription(request: HttpRequest, organization: Organization, subscription_id: str) -> Subscription:
    return get_object_or_404(
        subscriptions_visible_to(request.user).filter(organization=organization), id=subscription_id
    )


def _managed(request: HttpRequest, slug: str, subscription_id: str) -> tuple[Organization, Subscription]:
    """For an action: 404 unless the user sees the subscription, 403 unless they own its organization."""
    organization = organization_for(request.user, slug)
    subscription = _subscription(request, organization, subscription_id)
    _owned(request, organization)
    return organization, subscription


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def subscription_list(request: HttpRequest, slug: str) -> HttpResponse:
    """The organization's subscriptions; for owners, the form that adds one."""
    organization = organization_for(request.user, slug)
    initial = {"timezone": organization.timezone, "sla_target": organization.sla_target_percent, "cadence": "weekly"}
    form = SubscriptionForm(initial=initial)
    if request.method == "POST":
        _owned(request, organization)
        form = SubscriptionForm(request.POST, initial=initial)
        if form.is_valid():
            data = form.cleaned_data
            try:
                created = subscription_create(
                    organization=organization,
                    cadence=data["cadence"],
                    send_hour=data["send_hour"],
                    timezone_name=data["timezone"],
                    sla_target=data["sla_target"],
                    email_to=data["email_to"],
                    webhook_url=data["webhook_url"],
                    created_by=request.user if isinstance(request.user, User) else None,
                )
            except ValidationError as error:
                form.add_model_errors(error)
            else:
                return _detail(request, organization, created.subscription, new_secret=created.webhook_secret)
    context = frame(request, organization, "subscriptions") | {
        "subscriptions": subscriptions_visible_to(request.user).filter(organization=organization),
        "form": form,
    }
    return render(request, "portal/subscription_list.html", context, status=400 if form.errors else 200)


def _detail(
    request: HttpRequest,
    organization: Organization,
    subscription: Subscription,
    *,
    form: SubscriptionForm | None = None,
    new_secret: str | None = None,
    status: int = 200,
) -> HttpResponse:
    deliveries = Paginator(
        subscription_deliveries(request.user, subscription).select_related("run"), DELIVERIES_PER_PAGE
    )
    context = frame(request, organization, "subscriptions") | {
        "subscription": subscription,
        "form": form or SubscriptionForm.of(subscription),
        "new_secret": new_secret,
        "page": deliveries.get_page(request.GET.get("page")),
        "runs": subscription.runs.select_related("report")[:10],
    }
    return render(request, "portal/subscription.html", context, status=status)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def subscription_page(request: HttpRequest, slug: str, subscription_id: str) -> HttpResponse:
    """A subscription's settings (a form for owners), its latest runs and every delivery attempt."""
    organization = organization_for(request.user, slug)
    subscription = _subscription(request, organization, subscription_id)
    if request.method != "POST":
        return _detail(request, organization, subscription)
    _owned(request, organization)
    form = SubscriptionForm.of(subscription, request.POST)
    if form.is_valid():
        try:
            subscription_update(subscription, dict(form.cleaned_data))
        except ValidationError as error:
            subscription.refresh_from_db()
            form.add_model_errors(error)
        else:
            messages.success(request, "Saved.")
            return redirect("portal:subscription", slug=organization.slug, subscription_id=subscription.id)
    return _detail(request, organization, subscription, form=form, status=400)


@login_required
@require_POST
def subscription_rotate(request: HttpRequest, slug: str, subscription_id: str) -> HttpResponse:
    organization, subscription = _managed(request, slug, subscription_id)
    rotated = subscription_rotate_secret(subscription)
    return _detail(request, organization, subscription, new_secret=rotated.webhook_secret)


@login_required
@require_POST
def subscription_send(request: HttpRequest, slug: str, subscription_id: str) -> HttpResponse:
    organization, subscription = _managed(request, slug, subscription_id)
    refused = refuse_over_rate(request, organization)
    if refused is not None:
        return refused
    run = send_now(subscription)
    if run.report_id is None:
        messages.info(request, "The service is busy: the report starts within a minute, then it is sent.")
    else:
        messages.success(request, "The report is being computed; it is sent as soon as it is complete.")
    return redirect("portal:subscription", slug=organization.slug, subscription_id=subscription.id)


@login_required
@require_POST
def subscription_delete(request: HttpRequest, slug: str, subscription_id: str) -> HttpResponse:
    organization, subscription = _managed(request, slug, subscription_id)
    subscription.delete()
    messages.success(request, "The subscription is deleted: nothing more will be sent.")
    return redirect("portal:subscriptions", slug=organization.slug)
