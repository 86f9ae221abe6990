"""WSGI entry point: ``gunicorn -k gevent -w 1 core.wsgi:app`` (see README, running at scale)."""

import gc

from core.app import create_app

app = create_app()

# A server process holds thousands of long-lived objects per thousand connections (sockets,
# greenlets, queues). With Python's default thresholds the collector walked them all again and
# again: at 10,000 board watchers it took 7-8 s of CPU a minute per process, in pauses of up to
# 0.6 s during which no update went out. The objects made at start-up are never collected
# (freeze), and young objects are collected every 50,000 allocations instead of 700, so the full
# collections come seldom.
gc.freeze()
gc.set_threshold(50_000, 20, 100)
