"""The subscriptions API: ``/subscriptions`` and each one's ``rotate_secret``, ``send_now`` and ``deliveries``.

Every read goes through :mod:`subscriptions.selectors`, so another
organization's subscription answers 404 exactly like one that does not
exist. Members read; owners (and staff) create, change, delete, rotate and
send: a viewer gets 403. Views validate, call one service and shape the answer.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from operations.throttling import ScopedRateThrottle
from organizations.scoping import (
    MayNotTrigger,
    NoSuchOrganization,
    OrganizationRequired,
    managing_organization,
    may_trigger,
)
from subscriptions.api.serializers import (
    CreatedSubscriptionOutput,
    DeliveryOutput,
    RotatedSecretOutput,
    RunOutput,
    SubscriptionInput,
    SubscriptionOutput,
)
from subscriptions.models import Subscription
from subscriptions.selectors import subscription_deliveries, subscriptions_visible_to
from subscriptions.sending import send_now
from subscriptions.services import (
    subscription_create,
    subscription_rotate_secret,
    subscription_update,
)


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def model_errors(error: DjangoValidationError) -> ValidationError:
    """The model's rule errors as DRF's 400, field by field (``__all__`` becomes ``non_field_errors``)."""
    messages = error.message_dict if hasattr(error, "error_dict") else {"non_field_errors": error.messages}
    return ValidationError(
        {("non_field_errors" if key == "__all__" else key): value for key, value in messages.items()}
    )


class SubscriptionViewSet(GenericViewSet):  # type: ignore[type-arg]
    serializer_class = SubscriptionOutput
    pagination_class = Pagination
    lookup_url_kwarg = "subscription_id"
    lookup_value_regex = r"[A-Za-z0-9_-]{1,22}"
    throttle_scope = "trigger_report"

    def get_queryset(self) -> QuerySet[Subscription]:
        return subscriptions_visible_to(self.request.user).order_by("organization__slug", "created_at", "id")

    def get_throttles(self) -> list[Any]:
        # Sending now computes a report: it spends the same per-user budget as a trigger.
        return (
            [*super().get_throttles(), ScopedRateThrottle()] if self.action == "send_now" else super().get_throttles()
        )

    def managed(self) -> Subscription:
        """The subscription in the URL, for a write: 404 unless visible, 403 unless the user owns its organization."""
        subscription: Subscription = self.get_object()
        if not may_trigger(self.request.user, subscription.organization):
            raise PermissionDenied(f"only an owner of {subscription.organization} may manage its subscriptions")
        return subscription

    @extend_schema(summary="The subscriptions you may see")
    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(SubscriptionOutput(page, many=True).data)

    @extend_schema(
        request=SubscriptionInput,
        responses={
            201: CreatedSubscriptionOutput,
            400: OpenApiResponse(description="a rule broken; the message says which field"),
            403: OpenApiResponse(description="a viewer, or a user of no organization"),
            404: OpenApiResponse(description="no organization with this slug that you may see"),
        },
        summary="Subscribe an organization to a daily, weekly or monthly report",
    )
    def create(self, request: Request) -> Response:
        payload = SubscriptionInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        try:
            organization = managing_organization(request.user, data.get("organization"))
        except NoSuchOrganization:
            raise NotFound(f"no organization {data['organization']!r}") from None
        except OrganizationRequired as error:
            raise ValidationError(
                {"organization": [f"name the organization, one of: {', '.join(error.choices)}"]}
            ) from None
        except MayNotTrigger as error:
            raise PermissionDenied(str(error)) from None
        try:
            created = subscription_create(
                organization=organization,
                cadence=data["cadence"],
                send_hour=data["send_hour"],
                timezone_name=data.get("timezone"),
                sla_target=data.get("sla_target"),
                email_to=data.get("email_to"),
                webhook_url=data.get("webhook_url") or "",
                created_by=request.user if isinstance(request.user, User) else None,
            )
        except DjangoValidationError as error:
            raise model_errors(error) from None
        body = CreatedSubscriptionOutput(created.subscription).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(summary="One subscription (its secret is never shown again)")
    def retrieve(self, request: Request, subscription_id: str) -> Response:
        return Response(SubscriptionOutput(self.get_object()).data)

    @extend_schema(
        request=SubscriptionInput,
        responses={200: SubscriptionOutput, 400: OpenApiResponse(), 403: OpenApiResponse(), 404: OpenApiResponse()},
        summary="Change a subscription; a new schedule is counted from now",
    )
    def partial_update(self, request: Request, subscription_id: str) -> Response:
        subscription = self.managed()
        payload = SubscriptionInput(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        changes = dict(payload.validated_data)
        if changes.get("timezone") is None and "timezone" in changes:
            changes["timezone"] = subscription.organization.timezone
        if changes.get("sla_target") is None and "sla_target" in changes:
            changes["sla_target"] = subscription.organization.sla_target_percent
        try:
            subscription_update(subscription, changes)
        except DjangoValidationError as error:
            raise model_errors(error) from None
        return Response(SubscriptionOutput(subscription).data)

    @extend_schema(responses={204: None, 403: OpenApiResponse(), 404: OpenApiResponse()}, summary="Unsubscribe")
    def destroy(self, request: Request, subscription_id: str) -> Response:
        self.managed().delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        responses={200: RotatedSecretOutput, 403: OpenApiResponse(), 404: OpenApiResponse()},
        summary="A new webhook secret; the old one signs too for 24 h",
    )
    @action(detail=True, methods=["post"], url_path="rotate_secret")
    def rotate_secret(self, request: Request, subscription_id: str) -> Response:
        rotated = subscription_rotate_secret(self.managed())
        return Response(RotatedSecretOutput(rotated).data)

    @extend_schema(
        request=None,
        responses={202: RunOutput, 403: OpenApiResponse(), 404: OpenApiResponse()},
        summary="Deliver the subscription's report now (the last complete period)",
    )
    @action(detail=True, methods=["post"], url_path="send_now")
    def send_now(self, request: Request, subscription_id: str) -> Response:
        run = send_now(self.managed())
        return Response(RunOutput(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: DeliveryOutput(many=True)}, summary="Every delivery attempt, newest first")
    @action(detail=True, methods=["get"])
    def deliveries(self, request: Request, subscription_id: str) -> Response:
        subscription = self.get_object()
        attempts = subscription_deliveries(request.user, subscription).select_related("run")
        page = self.paginate_queryset(attempts)
        return self.get_paginated_response(DeliveryOutput(page, many=True).data)
