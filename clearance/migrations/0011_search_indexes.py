"""Indexes for each officer's queue, overdue work and the API's list at scale (issue 17).

The open statuses are written out (chaincode.rules.CLEARANCE_OPEN as it stands), so that the
migration stays what it was if the code's list changes.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('clearance', '0010_lender_consent_for_transfers'),
        ('organisations', '0005_offices'),
        ('registry', '0022_office_and_gvw'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='clearancerequest',
            index=models.Index(condition=models.Q(('status__in', ('pending', 'in_review', 'returned'))), fields=['organisation', 'due_at', 'id'], name='clearance_open_queue_idx'),
        ),
        migrations.AddIndex(
            model_name='clearancerequest',
            index=models.Index(condition=models.Q(('status__in', ('pending', 'in_review', 'returned'))), fields=['due_at', 'application'], name='clearance_open_due_idx'),
        ),
        migrations.AddIndex(
            model_name='clearancerequest',
            index=models.Index(condition=models.Q(('status__in', ('pending', 'in_review', 'returned')), _negated=True), fields=['organisation', '-decided_at', '-id'], name='clearance_decided_queue_idx'),
        ),
        migrations.AddIndex(
            model_name='clearancerequest',
            index=models.Index(fields=['organisation', 'due_at', 'id'], name='clearance_org_due_idx'),
        ),
    ]
