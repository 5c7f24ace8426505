"""Admin for organizations and their members (staff manage them; owners use the portal)."""

from __future__ import annotations

from django.contrib import admin

from organizations.models import Membership, Organization


class MembershipInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Membership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("slug", "name", "timezone", "sla_target_percent")
    search_fields = ("slug", "name")
    inlines = (MembershipInline,)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("organization", "user", "role")
    list_filter = ("role", "organization")
    raw_id_fields = ("user",)
