"""factory-boy factories for every model."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import factory

from stores.models import BusinessHours, Poll, PollStatus, Store


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store
        django_get_or_create = ("id",)

    id = factory.Sequence(lambda n: f"{1000000000000000000 + n}")
    timezone = "America/Chicago"


class PollFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Poll

    store = factory.SubFactory(StoreFactory)
    timestamp_utc = factory.Sequence(lambda n: datetime(2023, 1, 25, tzinfo=UTC) - timedelta(hours=n))
    status = PollStatus.ACTIVE


class BusinessHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BusinessHours

    store = factory.SubFactory(StoreFactory)
    day_of_week = 0
    start_time_local = time(9, 0)
    end_time_local = time(17, 0)
