#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""
import gc
import os
import sys


def main():
    """Run administrative tasks."""
    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'loopmonitor.settings')
    try:
        from django.core.management import execute_from_command_line
    except ImportError as exc:
        raise ImportError(
            "Couldn't import Django. Are you sure it's installed and "
            "available on your PYTHONPATH environment variable? Did you "
            "forget to activate a virtual environment?"
        ) from exc
    execute_from_command_line(sys.argv)
    # The command is done and the process ends. The interpreter's cyclic
    # collections while it tears the modules down took 0.3-0.6 s of every
    # command's exit here (after `build_report`, and after `showmigrations`
    # alike: docs/benchmarks.md) to free memory the operating system takes
    # back anyway; frozen objects are left out of them.
    gc.freeze()


if __name__ == '__main__':
    main()
