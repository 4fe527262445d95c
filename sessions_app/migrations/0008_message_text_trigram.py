# The console's search (sessions_app/console/search.py): a trigram index on message texts, which
# answers ILIKE '%…%' for any substring of three characters or more, Chinese included. Built
# concurrently (outside a transaction) so that a large message table stays writable meanwhile.

import django.contrib.postgres.indexes
import django.db.models.fields.json
from django.contrib.postgres.operations import AddIndexConcurrently, TrigramExtension
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ('seats', '0004_api_token'),
        ('sessions_app', '0007_customer_notes'),
    ]

    operations = [
        TrigramExtension(),
        AddIndexConcurrently(
            model_name='servicesession',
            index=models.Index(fields=['seat', '-opened_at'], name='session_seat_newest_idx'),
        ),
        AddIndexConcurrently(
            model_name='message',
            index=django.contrib.postgres.indexes.GinIndex(django.contrib.postgres.indexes.OpClass(django.db.models.fields.json.KeyTextTransform('searchableContent', 'payload'), name='gin_trgm_ops'), name='message_text_trgm_idx'),
        ),
    ]
