"""The one-click unsubscribe page: ``GET`` asks, ``POST`` does it (RFC 8058), with no login.

A mail client's one-click ``POST`` carries no CSRF token, so the view is
exempt; what protects it is the signed link, which names one subscription
and one address. A ``GET`` never unsubscribes: link scanners follow links.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from subscriptions.models import Subscription
from subscriptions.services import subscription_unsubscribe
from subscriptions.unsubscribe import unsubscribe_target


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    target = unsubscribe_target(token)
    if target is None:
        return render(request, "subscriptions/unsubscribe.html", {"invalid": True}, status=404)
    subscription_id, address = target
    subscription = Subscription.objects.select_related("organization").filter(id=subscription_id).first()
    context = {"address": address, "subscription": subscription}
    if request.method == "POST":
        subscription_unsubscribe(subscription_id, address)
        return render(request, "subscriptions/unsubscribe.html", context | {"done": True})
    subscribed = subscription is not None and address.lower() in {a.lower() for a in subscription.email_to}
    return render(request, "subscriptions/unsubscribe.html", context | {"subscribed": subscribed})
