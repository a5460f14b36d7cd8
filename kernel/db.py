"""Model building blocks shared by every app."""

from django.db import models


class TimestampedModel(models.Model):
    """Every row says when it was created and last changed."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class UpperWords(models.Func):
    """Text columns joined by spaces and upper-cased, e.g. a user's "JUAN DELA CRUZ".

    Written out rather than built from ``Concat``, which Django compiles differently in an
    index than in a query (it skips coalescing a literal there): an expression index serves
    only a query whose expression is the same, and this one compiles the same everywhere.
    The columns must be NOT NULL (a NULL would blank the whole key).
    """

    template = "UPPER(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = models.TextField()
