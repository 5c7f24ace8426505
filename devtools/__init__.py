"""Development tooling: data generator, benchmarks, chaos and load tools, the demo server.

Nothing in the product imports this package. Settings install it only with
``DEBUG`` on or ``LOOPMONITOR_DEVTOOLS=1`` (the test suite does), so a
production ``manage.py help`` lists none of its commands.
"""
