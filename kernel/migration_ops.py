"""Helpers for migrations that move a model to another app while keeping its table."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


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
