"""SMS senders. Development logs codes (and prints them); tests keep them in memory; production names
its gateway's class with CARBON_SMS_SENDER="package.module:ClassName"."""

from __future__ import annotations

import importlib
import logging
import sys
from dataclasses import dataclass, field
from typing import Protocol

from flask import current_app

log = logging.getLogger("carbon_platform.sms")


class SmsSender(Protocol):
    def send(self, phone: str, message: str) -> None: ...


class LogSender:
    """For development: the message goes to the log and to the server's console."""

    def send(self, phone: str, message: str) -> None:
        log.info("SMS to %s: %s", phone, message)
        print(f"[SMS → {phone}] {message}", file=sys.stderr, flush=True)


@dataclass
class MemorySender:
    """For tests: keeps every message, newest last."""

    outbox: list[tuple[str, str]] = field(default_factory=list)

    def send(self, phone: str, message: str) -> None:
        self.outbox.append((phone, message))

    def last_to(self, phone: str) -> str:
        return next(message for to, message in reversed(self.outbox) if to == phone)


def build(spec: str) -> SmsSender:
    if spec == "log":
        return LogSender()
    if spec == "memory":
        return MemorySender()
    module_name, _, class_name = spec.partition(":")
    if not class_name:
        raise RuntimeError(f"CARBON_SMS_SENDER must be 'log', 'memory' or 'module:Class', not {spec!r}")
    return getattr(importlib.import_module(module_name), class_name)()


def init_app(app) -> None:
    app.extensions["sms_sender"] = build(app.config["SMS_SENDER"])


def sender() -> SmsSender:
    return current_app.extensions["sms_sender"]
