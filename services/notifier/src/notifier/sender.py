"""Handing messages to the mail relay: the sender interface the delivery round uses, and its
smtplib implementation that keeps one SMTP session open across sends."""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from notifier.config import SmtpSettings
from notifier.domain import RelayUnavailable, classify


@dataclass(frozen=True)
class OutgoingMail:
    envelope_from: str
    recipient: str
    message: bytes


class MailSender(Protocol):
    def send(self, mail: OutgoingMail) -> None:
        """Hand ``mail`` to the relay; raise what went wrong (see ``domain.classify``)."""

    def close(self) -> None: ...


class SmtpSender:
    """One SMTP session kept open across sends. A session left idle is checked with NOOP
    before use, and a reused session that turns out to be dead is replaced once, at once."""

    def __init__(
        self,
        settings: SmtpSettings,
        *,
        check_after: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.check_after = check_after
        self._monotonic = monotonic
        self._smtp: smtplib.SMTP | None = None
        self._last_used = 0.0

    def send(self, mail: OutgoingMail) -> None:
        for first_try in (True, False):
            reused = self._smtp is not None
            smtp = self._session()
            try:
                self._sendmail(smtp, mail)
                return
            except (smtplib.SMTPServerDisconnected, ConnectionError):
                self._drop()
                if first_try and reused:
                    continue  # the relay had closed a session we kept: one fresh try
                raise
            except smtplib.SMTPResponseException as exc:
                if exc.smtp_code == 421:  # the relay is ending the session
                    self._drop()
                raise
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPNotSupportedError, UnicodeError):
                raise  # about this message only: smtplib has reset the session, keep it
            except BaseException:
                self._drop()
                raise

    def idle_for(self) -> float:
        return self._monotonic() - self._last_used if self._smtp is not None else 0.0

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def _sendmail(self, smtp: smtplib.SMTP, mail: OutgoingMail) -> None:
        international = not (mail.envelope_from.isascii() and mail.recipient.isascii())
        smtp.sendmail(
            mail.envelope_from,
            [mail.recipient],
            mail.message,
            mail_options=["SMTPUTF8"] if international else [],
        )
        self._last_used = self._monotonic()

    def _session(self) -> smtplib.SMTP:
        if self._smtp is not None and self._monotonic() - self._last_used > self.check_after:
            try:
                code, _text = self._smtp.noop()
            except (smtplib.SMTPException, OSError):
                code = 0
            if code != 250:
                self._drop()
        if self._smtp is None:
            self._smtp = self._connect()
            self._last_used = self._monotonic()
        return self._smtp

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        where = f"{s.host}:{s.port}"
        smtp = smtplib.SMTP(timeout=s.timeout, local_hostname=s.helo_name or s.sender_domain)
        try:
            smtp.connect(s.host, s.port)
            smtp.ehlo()
            if s.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password or "")
        except (smtplib.SMTPException, OSError) as exc:
            smtp.close()
            reason = classify(exc).reason
            raise RelayUnavailable(f"mail relay {where} unavailable: {reason}") from exc
        return smtp

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()
