"""The adapter's models stop pointing at the flow's (docs/architecture.md): a shadow names the IM
user it stands for, an outbox row the IM user whose shadow speaks and the flow's reference for what
it delivers. The data is carried over in SQL, pending shadow rows keep their order under the new key."""

from django.db import migrations, models

FORWARD = """
UPDATE robots_robot r SET shadow_of = c.im_user_id FROM sessions_app_customer c WHERE r.customer_id = c.id;
UPDATE robots_outboundmessage o SET shadow_of = c.im_user_id FROM sessions_app_customer c WHERE o.customer_id = c.id;
UPDATE robots_outboundmessage SET reference = transcript_message_id WHERE transcript_message_id IS NOT NULL;
UPDATE robots_outboundmessage
   SET ordering_key = 'shadow:' || shadow_of || substring(ordering_key FROM position('>' IN ordering_key))
 WHERE sender_kind = 'shadow';
"""
BACKWARD = """
UPDATE robots_robot r SET customer_id = c.id FROM sessions_app_customer c WHERE r.shadow_of = c.im_user_id;
UPDATE robots_outboundmessage o SET customer_id = c.id FROM sessions_app_customer c WHERE o.shadow_of = c.im_user_id;
UPDATE robots_outboundmessage o SET transcript_message_id = m.id FROM sessions_app_message m WHERE o.reference = m.id;
UPDATE robots_outboundmessage
   SET ordering_key = 'shadow:' || COALESCE(customer_id::text, shadow_of)
                      || substring(ordering_key FROM position('>' IN ordering_key))
 WHERE sender_kind = 'shadow';
-- The foreign keys written above are checked now rather than at commit, before columns of the
-- same tables are dropped.
SET CONSTRAINTS ALL IMMEDIATE;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("robots", "0004_inbound_pending_index"),
        ("sessions_app", "0005_idle_clock_queue_timeout_texts"),
    ]

    operations = [
        migrations.AddField(
            model_name="robot",
            name="shadow_of",
            field=models.CharField(blank=True, max_length=64, null=True, verbose_name="shadow of IM user"),
        ),
        migrations.AddField(
            model_name="outboundmessage",
            name="shadow_of",
            field=models.CharField(blank=True, default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="outboundmessage",
            name="reference",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        # Before the data moves: undone after it moves back, when every shadow has its customer again.
        migrations.RemoveConstraint(model_name="robot", name="robot_shadow_has_customer"),
        migrations.RunSQL(FORWARD, BACKWARD),
        migrations.RemoveField(model_name="robot", name="customer"),
        migrations.RemoveField(model_name="outboundmessage", name="customer"),
        migrations.RemoveField(model_name="outboundmessage", name="transcript_message"),
        migrations.AlterField(
            model_name="robot",
            name="shadow_of",
            field=models.CharField(blank=True, max_length=64, null=True, unique=True, verbose_name="shadow of IM user"),
        ),
        migrations.AddConstraint(
            model_name="robot",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind", "cs"), ("shadow_of__isnull", True))
                | models.Q(("kind", "shadow"), ("shadow_of__isnull", False)),
                name="robot_shadow_stands_for_a_user",
            ),
        ),
    ]
