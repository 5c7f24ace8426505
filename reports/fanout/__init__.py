"""A report fanned out over django-q2 workers: plan, shards, assembly, recovery.

1. **Plan** (one task): fix the report's snapshot — which stores get a row,
   their hours and zones, and the last poll id stored so far — and cut the
   stores into shards of about ``REPORT_SHARD_SIZE`` (see
   :func:`reports.fanout.plan.shard_size`). Each shard row carries its
   stores' hours and zones, so shards run later, anywhere, still see the
   snapshot. The plan reads on a connection of its own, streams the
   stores, and commits and queues each shard as soon as it is written, so
   other workers compute the first shards while it writes the rest; the
   totals are stored with the plan's end.
2. **Shards** (one task each, on any worker of any machine sharing the
   database and broker): claim the shard, compute its rows with the same
   engine as ``build_report``, and store them with the shard's ``complete``
   status in one update. Each claim has a token of its own, and every later
   move of the shard (complete, failed, pending again) is an update
   conditional on it: a worker whose claim was taken over can change
   nothing, so a shard is counted once, by the claim that completed it.
3. **Assembly** (whoever completes the last shard): claimed with a
   conditional update so it happens once; the CSV is the header plus the
   shards' rows in order, byte for byte what ``build_report`` writes. It
   refuses unless every planned shard is complete and the rows number the
   stores planned.
4. **Recovery**: while a worker plans, computes or assembles, a heartbeat
   thread renews its claim every third of ``REPORT_SHARD_LEASE_SECONDS``, so
   a slow worker that is alive keeps its work. A claim not renewed for the
   lease is abandoned (its worker died, or lost the database): the shard is
   queued again, up to ``REPORT_SHARD_MAX_ATTEMPTS`` claims; so is a plan,
   which starts over as the report's next plan (its shards numbered with the
   new ``plan_attempt``; the old ones no longer count). After that, or past
   ``REPORT_DEADLINE_SECONDS``, the report ends Failed with the reason.
   Recovery runs when a client polls the report (at most once per
   :func:`recovery_interval`) and once a minute from a django-q2 schedule, so
   a report never stays Running.


The modules: :mod:`~reports.fanout.queue` (trigger and tasks),
:mod:`~reports.fanout.claims` (lease, heartbeat, which claims are live),
:mod:`~reports.fanout.plan`, :mod:`~reports.fanout.shards`,
:mod:`~reports.fanout.assembly` and :mod:`~reports.fanout.recovery`. The
shard inputs a plan writes and a shard reads are encoded and decoded in
:mod:`reports.snapshot`.
"""
