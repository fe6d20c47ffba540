"""Development mailbox: catches the emails the platform sends and shows them on a web page.

Mailpit's conventions: SMTP on 127.0.0.1:1025, web page on http://127.0.0.1:8025.
Start it with ``python -m notifier.devmailbox``. For development only: no authentication.
"""
