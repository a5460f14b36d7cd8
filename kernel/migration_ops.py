"""Helpers for migrations: moving a model to another app while keeping its table, and indexes
that only one database (or another app's table) can have."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import models
from django.db.migrations.operations.base import Operation


def move_content_types(
    from_app: str, to_app: str, models: Iterable[str]
) -> Callable[[Any, Any], None]:
    """A RunPython step giving the moved models' content types to ``to_app``.

    Relabelling keeps the rows' ids, so permissions, group and user grants and admin history
    stay attached. A content type that Django created meanwhile under the new label (a
    ``migrate`` run stops between the two apps' migrations and its post_migrate step creates
    one) is newer than the one being moved and holds nothing of before: it gives way.
    """
    models = list(models)

    def move(apps: Any, schema_editor: Any) -> None:
        ContentType = apps.get_model("contenttypes", "ContentType")
        db = schema_editor.connection.alias
        moving = ContentType.objects.using(db).filter(app_label=from_app, model__in=models)
        moved_names = list(moving.values_list("model", flat=True))
        ContentType.objects.using(db).filter(app_label=to_app, model__in=moved_names).delete()
        moving.update(app_label=to_app)

    return move


class AddIndexOutsideState(Operation):
    """Create ``index`` on ``app_label.model_name`` without recording it in the model state.

    For indexes a model's ``Meta`` cannot hold: on a table of another app (``auth_user``), or
    PostgreSQL-only ones (a ``pg_trgm`` GIN index) that the embedded SQLite must skip, which
    Django's ``AddIndex`` would try to build there. With ``postgresql_only`` the operation does
    nothing on any other database, both ways.
    """

    reversible = True

    def __init__(
        self, app_label: str, model_name: str, index: models.Index, postgresql_only: bool = False
    ) -> None:
        self.app_label = app_label
        self.model_name = model_name
        self.index = index
        self.postgresql_only = postgresql_only

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def _applies(self, schema_editor: Any) -> bool:
        return not self.postgresql_only or schema_editor.connection.vendor == "postgresql"

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if self._applies(schema_editor):
            model = to_state.apps.get_model(self.app_label, self.model_name)
            schema_editor.add_index(model, self.index)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if self._applies(schema_editor):
            model = from_state.apps.get_model(self.app_label, self.model_name)
            schema_editor.remove_index(model, self.index)

    def describe(self) -> str:
        where = " (PostgreSQL only)" if self.postgresql_only else ""
        return f"Create index {self.index.name} on {self.app_label}.{self.model_name}{where}"

    @property
    def migration_name_fragment(self) -> str:
        return f"index_{self.index.name.lower()}"
