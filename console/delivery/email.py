"""Email delivery over SMTP: STARTTLS or implicit TLS, credentials from the keyring.

smtplib is blocking, so each send runs in a worker thread (``asyncio.to_thread``) with the
configured timeout on every socket operation; the engine's loop never waits on a mail server.

Rules that keep a page safe and recognisable:

- Certificates are verified (against ``ca_file`` when one is given, else the system's CAs).
- Credentials are only ever sent over TLS: a configuration that would log in over a clear
  connection is refused before anything is sent.
- The Message-ID comes from the notice's idempotency key, so a re-send after a crash is the
  same message to every mail client; ``X-Oncall-Idempotency-Key`` carries the key itself.
"""

from __future__ import annotations

import asyncio
import base64
import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from console.core.errors import ConsoleError
from console.core.notices import Notice, SmtpConfig, SmtpSecurity, message_id, plain_text
from console.core.notices import subject_line as subject_of
from console.delivery.outcome import Outcome, permanent, sent, transient

SecretReader = Callable[[str], str | None]
IDEMPOTENCY_HEADER = "X-Oncall-Idempotency-Key"
CLEAR_CREDENTIALS = (
    "refusing to send SMTP credentials over a connection without TLS; set security to "
    "starttls or tls"
)


class _Refused(Exception):
    """A reason not to send found before connecting (carried out of the worker thread)."""


def build_message(notice: Notice, config: SmtpConfig) -> EmailMessage:
    """The email for ``notice``: headers (Message-ID, idempotency key, urgency) and plain text."""
    msg = EmailMessage()
    msg["From"] = config.sender
    msg["To"] = formataddr((notice.recipient.name, notice.recipient.email))
    msg["Subject"] = subject_of(notice)
    msg["Date"] = format_datetime(notice.at)
    msg["Message-ID"] = message_id(notice.key, config.domain)
    msg[IDEMPOTENCY_HEADER] = notice.key
    msg["X-Oncall-Incident"] = notice.incident_ref
    # RFC 3834: an automatic message; auto-responders should not answer it.
    msg["Auto-Submitted"] = "auto-generated"
    if notice.drill:
        msg["X-Oncall-Drill"] = "yes"
    if notice.urgent:
        msg["Importance"] = "high"
        msg["X-Priority"] = "1"
    if notice.resend:
        msg["X-Oncall-Resend"] = "yes"
    msg.set_content(plain_text(notice))
    return msg


class EmailChannel:
    """Sends notices through one SMTP relay.

    Args:
        config: The relay.
        secrets: Reads a keyring secret by name (``SecretStore().get``); called in the worker
            thread, as keyring access may block. It may raise a `ConsoleError` (no keyring).
    """

    def __init__(self, config: SmtpConfig, secrets: SecretReader) -> None:
        self.config = config
        self._secrets = secrets

    async def send(self, notice: Notice) -> Outcome:
        """Send one notice; never raises for a delivery problem, it returns the `Outcome`."""
        message = build_message(notice, self.config)
        return await asyncio.to_thread(self._send_blocking, message)

    def _send_blocking(self, message: EmailMessage) -> Outcome:
        where = f"{self.config.host}:{self.config.port}"
        try:
            password = self._password()
            self._transmit(message, password)
        except _Refused as exc:
            return permanent(str(exc))
        except Exception as exc:  # every failure becomes an outcome, classified
            return classify(exc, where)
        return sent(f"accepted by {where} for {message['To']}")

    def _password(self) -> str | None:
        cfg = self.config
        if not cfg.username:
            return None
        if cfg.security is SmtpSecurity.NONE:
            raise _Refused(CLEAR_CREDENTIALS)
        if not cfg.password_secret:
            raise _Refused("the SMTP username is set but password_secret is not")
        try:
            password = self._secrets(cfg.password_secret)
        except ConsoleError as exc:
            raise _Refused(f"cannot read secret {cfg.password_secret!r}: {exc}") from None
        if password is None:
            raise _Refused(f"no secret named {cfg.password_secret!r} in the keyring")
        return password

    def _context(self) -> ssl.SSLContext:
        # create_default_context verifies the chain and the host name.
        return ssl.create_default_context(cafile=self.config.ca_file)

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        if cfg.security is SmtpSecurity.TLS:
            return smtplib.SMTP_SSL(
                cfg.host, cfg.port, timeout=cfg.timeout_s, context=self._context()
            )
        return smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_s)

    def _transmit(self, message: EmailMessage, password: str | None) -> None:
        cfg = self.config
        with self._connect() as smtp:
            smtp.ehlo()
            if cfg.security is SmtpSecurity.STARTTLS:
                if not smtp.has_extn("starttls"):
                    raise _Refused(f"{cfg.host}:{cfg.port} does not offer STARTTLS")
                smtp.starttls(context=self._context())
                smtp.ehlo()
            if cfg.username and password is not None:
                _login(smtp, cfg.username, password)
            smtp.send_message(message)


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """Log in with AUTH PLAIN (RFC 4616, UTF-8) when offered, else smtplib's own choice.

    PLAIN is sent by hand because smtplib encodes every AUTH exchange as ASCII (a password
    like ``passé`` fails before a byte is sent) and, after a refusal, tries the next mechanism
    with the same wrong password; one PLAIN exchange gives one clear answer.
    """
    if "plain" not in smtp.esmtp_features.get("auth", "").lower().split():
        if not (user + password).isascii():
            raise _Refused("the server does not offer AUTH PLAIN, needed for non-ASCII credentials")
        smtp.login(user, password)
        return
    token = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode("ascii")
    code, reply = smtp.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


def _reply(code: int, text: bytes | str) -> str:
    said = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(said.split())}"


def _response(exc: smtplib.SMTPResponseException, where: str) -> Outcome:
    reply = _reply(exc.smtp_code, exc.smtp_error)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return permanent(f"{where} refused the credentials: {reply}")
    if 400 <= exc.smtp_code < 500:
        return transient(f"{where} deferred the message: {reply}")
    return permanent(f"{where} refused the message: {reply}")


def _recipients(exc: smtplib.SMTPRecipientsRefused, where: str) -> Outcome:
    refused = exc.recipients
    said = "; ".join(f"{who}: {_reply(code, text)}" for who, (code, text) in refused.items())
    if refused and all(400 <= code < 500 for code, _ in refused.values()):
        return transient(f"{where} deferred the recipient: {said}")
    return permanent(f"{where} refused the recipient: {said}")


def classify(exc: BaseException, where: str) -> Outcome:
    """The outcome of an SMTP exchange that raised ``exc``: transient or permanent, in words."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return _response(exc, where)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return _recipients(exc, where)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return permanent(f"{where}: {exc}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return permanent(f"{where}: certificate verification failed: {exc.verify_message}")
    # smtplib reports a read that timed out as a disconnection; the timeout is its context.
    if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
        return transient(f"{where} did not answer in time")
    if isinstance(exc, ConnectionRefusedError):
        return transient(f"{where} refused the connection")
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return transient(f"{where} closed the connection: {exc}")
    if isinstance(exc, ssl.SSLError | OSError | smtplib.SMTPException):
        return transient(f"{where}: {exc.strerror if isinstance(exc, OSError) else exc}")
    raise exc
