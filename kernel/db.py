"""Model building blocks shared by every app."""

from django.db import models


class TimestampedModel(models.Model):
    """Every row says when it was created and last changed."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
