"""The supervisors' pages, mounted under /admin/ before the admin's own URLs."""

from __future__ import annotations

from django.urls import path

from sessions_app.supervision import views as admin_views

app_name = "supervision"
urlpatterns = [
    path("live/", admin_views.live_page, name="live"),
    path("live/panels/", admin_views.live_panels, name="live-panels"),
    path("live/sessions/<int:session_id>/reassign/", admin_views.live_session_reassign, name="live-reassign"),
    path("live/sessions/<int:session_id>/end/", admin_views.live_session_end, name="live-end"),
    path("live/sessions/<int:session_id>/monitor/", admin_views.live_session_monitor, name="live-monitor"),
    path("live/sessions/<int:session_id>/whisper/", admin_views.live_session_whisper, name="live-whisper"),
    path("live/sessions/<int:session_id>/take-over/", admin_views.live_session_take_over, name="live-take-over"),
    path("live/seats/<int:seat_id>/status/", admin_views.live_seat_status_set, name="live-seat-status"),
    path("reports/", admin_views.reports_page, name="reports"),
    path("reports/<slug:table_key>.csv", admin_views.reports_csv, name="reports-csv"),
]
