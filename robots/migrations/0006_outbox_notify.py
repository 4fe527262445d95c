"""The outbox wakes its deliverer: a statement-level trigger NOTIFYs ``cs_outbox`` when rows are
written or put back in line. PostgreSQL delivers a notification when the transaction commits (never
for one that rolls back) and folds identical ones of a transaction into one, so a sweep that writes
thousands of rows sends one."""

from django.db import migrations

CHANNEL = "cs_outbox"

CREATE = f"""
CREATE FUNCTION robots_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('{CHANNEL}', '');
  RETURN NULL;
END $$;
CREATE TRIGGER robots_outbox_inserted AFTER INSERT ON robots_outboundmessage
  FOR EACH STATEMENT EXECUTE FUNCTION robots_outbox_notify();
CREATE TRIGGER robots_outbox_state_changed AFTER UPDATE OF state ON robots_outboundmessage
  FOR EACH STATEMENT EXECUTE FUNCTION robots_outbox_notify();
"""

DROP = """
DROP TRIGGER IF EXISTS robots_outbox_state_changed ON robots_outboundmessage;
DROP TRIGGER IF EXISTS robots_outbox_inserted ON robots_outboundmessage;
DROP FUNCTION IF EXISTS robots_outbox_notify();
"""


class Migration(migrations.Migration):
    dependencies = [("robots", "0005_shadow_of_and_reference")]

    operations = [migrations.RunSQL(CREATE, reverse_sql=DROP)]
