"""robots 0005 carries existing shadows and outbox rows over from the flow's foreign keys to the
adapter's own fields, and a pending shadow conversation keeps one ordering key."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("robots", "0004_inbound_pending_index"), ("sessions_app", "0005_idle_clock_queue_timeout_texts")]
AFTER = [("robots", "0005_shadow_of_and_reference")]


def _migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection)


def test_shadows_and_outbox_rows_keep_whom_they_speak_for_and_what_they_deliver() -> None:
    old = _migrate(BEFORE).loader.project_state(BEFORE).apps
    customer = old.get_model("sessions_app", "Customer").objects.create(im_user_id="wx-42", display_name="王")
    session = old.get_model("sessions_app", "ServiceSession").objects.create(customer=customer)
    message = old.get_model("sessions_app", "Message").objects.create(
        session=session, seq=1, direction="out", author="bot", content_type=1, payload={}, server_timestamp=1
    )
    old.get_model("robots", "Robot").objects.create(robot_id="wx-42_csshadow", kind="shadow", customer=customer)
    outbox = old.get_model("robots", "OutboundMessage").objects
    shadow_row = outbox.create(
        ordering_key=f"shadow:{customer.pk}>servicer1:0",
        sender_kind="shadow",
        customer=customer,
        target_user_id="servicer1",
        payload={},
    )
    robot_row = outbox.create(
        ordering_key="cs>wx-42:0",
        sender_kind="cs_robot",
        target_user_id="wx-42",
        payload={},
        transcript_message=message,
    )

    new = _migrate(AFTER).loader.project_state(AFTER).apps
    try:
        shadow = new.get_model("robots", "Robot").objects.get(robot_id="wx-42_csshadow")
        assert shadow.shadow_of == "wx-42"
        rows = new.get_model("robots", "OutboundMessage").objects
        moved = rows.get(pk=shadow_row.pk)
        assert (moved.shadow_of, moved.ordering_key, moved.reference) == ("wx-42", "shadow:wx-42>servicer1:0", None)
        assert rows.get(pk=robot_row.pk).reference == message.pk
        assert rows.get(pk=robot_row.pk).ordering_key == "cs>wx-42:0"

        # And back, with the data: the foreign keys and the old ordering key return.
        old = _migrate(BEFORE).loader.project_state(BEFORE).apps
        assert old.get_model("robots", "Robot").objects.get(robot_id="wx-42_csshadow").customer_id == customer.pk
        back = old.get_model("robots", "OutboundMessage").objects
        assert (back.get(pk=shadow_row.pk).customer_id, back.get(pk=shadow_row.pk).ordering_key) == (
            customer.pk,
            f"shadow:{customer.pk}>servicer1:0",
        )
        assert back.get(pk=robot_row.pk).transcript_message_id == message.pk
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
