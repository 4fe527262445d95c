from __future__ import annotations

from django.urls import path

from sessions_app.console import apis, customer_apis, search_apis

app_name = "sessions_app"
urlpatterns = [
    path("customers/<int:customer_id>/history/", apis.CustomerHistoryApi.as_view(), name="customer-history"),
    path("console/sessions/", apis.ConsoleSessionListApi.as_view(), name="console-sessions"),
    path("console/search/", search_apis.ConsoleSearchApi.as_view(), name="console-search"),
    path("console/ended/", search_apis.ConsoleEndedSessionListApi.as_view(), name="console-ended"),
    path(
        "console/sessions/<int:session_id>/transcript/",
        search_apis.ConsoleTranscriptApi.as_view(),
        name="console-transcript",
    ),
    path("sessions/<int:session_id>/messages/", apis.SessionMessageListApi.as_view(), name="session-messages"),
    path("sessions/<int:session_id>/attachments/", apis.SessionAttachmentApi.as_view(), name="session-attach"),
    path("canned-replies/", apis.CannedReplyListApi.as_view(), name="canned-reply-list"),
    path("canned-replies/create/", apis.CannedReplyCreateApi.as_view(), name="canned-reply-create"),
    path("canned-replies/<int:reply_id>/update/", apis.CannedReplyUpdateApi.as_view(), name="canned-reply-update"),
    path("canned-replies/<int:reply_id>/delete/", apis.CannedReplyDeleteApi.as_view(), name="canned-reply-delete"),
    path("left-messages/", apis.LeftMessageListApi.as_view(), name="left-message-list"),
    path("left-messages/<int:message_id>/handle/", apis.LeftMessageHandleApi.as_view(), name="left-message-handle"),
    path("left-messages/<int:message_id>/answer/", apis.LeftMessageAnswerApi.as_view(), name="left-message-answer"),
    path("console/queue/", apis.ConsoleQueueApi.as_view(), name="console-queue"),
    path("console/queue/take-next/", apis.ConsoleQueueTakeNextApi.as_view(), name="console-queue-take-next"),
    path("console/queue/<int:session_id>/take/", apis.ConsoleQueueTakeApi.as_view(), name="console-queue-take"),
    path("seats/transfer-targets/", apis.TransferTargetListApi.as_view(), name="transfer-targets"),
    path("customers/<int:customer_id>/card/", customer_apis.CustomerCardApi.as_view(), name="customer-card"),
    path(
        "customers/<int:customer_id>/notes/create/",
        customer_apis.CustomerNoteCreateApi.as_view(),
        name="customer-note-create",
    ),
    path(
        "customer-notes/<int:note_id>/update/",
        customer_apis.CustomerNoteUpdateApi.as_view(),
        name="customer-note-update",
    ),
    path(
        "customer-notes/<int:note_id>/delete/",
        customer_apis.CustomerNoteDeleteApi.as_view(),
        name="customer-note-delete",
    ),
    path("customers/<int:customer_id>/tags/add/", customer_apis.CustomerTagAddApi.as_view(), name="customer-tag-add"),
    path(
        "customers/<int:customer_id>/tags/remove/",
        customer_apis.CustomerTagRemoveApi.as_view(),
        name="customer-tag-remove",
    ),
    path("tags/", customer_apis.TagListApi.as_view(), name="tag-list"),
    path("sessions/<int:session_id>/end/", customer_apis.SessionEndApi.as_view(), name="session-end"),
    path("sessions/<int:session_id>/wrap-up/", customer_apis.SessionWrapUpApi.as_view(), name="session-wrap-up"),
]
