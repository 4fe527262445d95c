"""The words the console's JavaScript shows, translated here (no JavaScript catalogue needed)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from sessions_app.models import ServiceSession


def console_strings() -> dict[str, object]:
    """For ``json_script``; placeholders are ``%(name)s``, filled in by the console."""
    return {
        "connecting": _("Connecting…"),
        "connected": _("Connected"),
        "reconnecting": _("Reconnecting…"),
        "reconnectingIn": _("Connection lost, retrying in %(seconds)s s"),
        "disconnected": _("Disconnected"),
        "linkFailing": _("Connection failing"),
        "linkFailingDetail": _(
            "The connection to the server keeps failing right after it is made. The console keeps retrying; "
            "if this persists, reload the page or tell your supervisor."
        ),
        "notConnected": _("Not connected: the message was not sent. The console reconnects by itself."),
        "noAnswer": _("The server did not answer in time."),
        "requestFailed": _("That did not work. Please try again."),
        "noSeat": _("This account has no seat any more. Ask a supervisor."),
        "emptyByStatus": {
            "online": _("No sessions right now. New customers are assigned to you automatically."),
            "away": _("You are away: no new customers are assigned to you."),
            "offline": _("You are offline. Switch to online to start taking customers."),
        },
        "sessionMeta": _("Session #%(id)s · with you since %(time)s"),
        "transferNote": _("Transferred by %(name)s: %(note)s"),
        "transferNoNote": _("Transferred to you by %(name)s."),
        "transferred": _("Transferred"),
        "transferIn": _("Transferred to you by %(name)s"),
        "transferredTo": _("Transferred to %(name)s."),
        "newSession": _("New customer"),
        "sessionEnded": _("This session has ended."),
        "sessionGone": _("This session is no longer yours."),
        "waitingTitle": _("Time the customer has been waiting for an answer"),
        "waitingFor": _("Waiting for an answer for %(time)s"),
        "servicer": _("Servicer"),
        "bot": _("Bot"),
        "system": _("System"),
        "image": _("[Image]"),
        "file": _("[File]"),
        "unsupported": _("[Message of type %(type)s]"),
        "sending": _("Sending…"),
        "notSent": _("Not sent: %(reason)s"),
        "retry": _("Retry"),
        "retryTitle": _("Send this message again"),
        "copy": _("Copy"),
        "copyTitle": _("Copy the text of this message"),
        "copied": _("Copied."),
        "copyFailed": _("The browser did not allow copying: select the text and copy it yourself."),
        "tooLong": _("Too long to send: a message holds at most %(max)s characters."),
        "alertsOn": _("Alerts on"),
        "alertsOff": _("Enable alerts"),
        "alertsTitle": _("Sound and desktop notifications for new customers"),
        "notificationsBlocked": _("The browser blocks desktop notifications for this site; the sound still plays."),
        "loading": _("Loading…"),
        "noHistory": _("No earlier sessions."),
        "noMessages": _("No messages."),
        "closeReasons": {choice.value: str(choice.label) for choice in ServiceSession.CloseReason},
        "noTargets": _("No other servicer is online with room right now."),
        "noCanned": _("No canned replies yet."),
        "noCannedMatch": _("No canned reply matches."),
        "manageCanned": _("Manage canned replies…"),
        "newCanned": _("New personal reply"),
        "editCanned": _("Edit /%(shortcut)s"),
        "personal": _("Mine"),
        "shared": _("Shared"),
        "edit": _("Edit"),
        "delete": _("Delete"),
        "saved": _("Saved."),
        "tooLarge": _("The file is larger than %(mb)s MB."),
        "uploading": _("Sending %(name)s…"),
        "leftHandle": _("Mark handled"),
        "leftHandled": _("Marked handled."),
        "leftAlreadyHandled": _("Someone else has already handled this message."),
        "leftNew": _("New left message from %(name)s: %(text)s"),
        "leftShown": _("The oldest %(shown)s of %(count)s; the next ones appear as these are handled."),
    }
