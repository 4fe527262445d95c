"""A stored customer message wakes the inbound drainer (``manage.py inbound_stream``): a row-level
trigger NOTIFYs ``cs_inbound`` with the conversation (``<robot row id>:<sender>``) when a pending
message is inserted. PostgreSQL delivers it when the transaction commits (never for one that rolls
back), so the drainer never looks for a row before it is visible."""

from django.db import migrations

CHANNEL = "cs_inbound"

CREATE = f"""
CREATE FUNCTION robots_inbound_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('{CHANNEL}', NEW.robot_id::text || ':' || NEW.sender);
  RETURN NULL;
END $$;
CREATE TRIGGER robots_inbound_inserted AFTER INSERT ON robots_inboundmessage
  FOR EACH ROW WHEN (NEW.state = 'pending') EXECUTE FUNCTION robots_inbound_notify();
"""

DROP = """
DROP TRIGGER IF EXISTS robots_inbound_inserted ON robots_inboundmessage;
DROP FUNCTION IF EXISTS robots_inbound_notify();
"""


class Migration(migrations.Migration):
    dependencies = [("robots", "0007_inbound_retry_backoff")]

    operations = [migrations.RunSQL(CREATE, reverse_sql=DROP)]
