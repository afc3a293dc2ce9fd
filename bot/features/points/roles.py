"""Level roles as a pure function of a level change: which role to give, which to remove."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["RoleChange", "role_change"]


@dataclass(frozen=True, slots=True)
class RoleChange:
    """Give `grant` (empty: none) and remove `revoke`."""

    grant: str
    revoke: tuple[str, ...]


def _role_at(roles: Mapping[int, str], level: int) -> tuple[int, str] | None:
    """The level and role of the highest level role at or below `level`."""
    held = [lvl for lvl in roles if lvl <= level]
    return None if not held else (max(held), roles[max(held)])


def role_change(
    roles: Mapping[int, str], before: int, after: int, *, remove_previous: bool
) -> RoleChange | None:
    """The role change a move from level `before` to `after` calls for, if any.

    Up: the role of the highest level role crossed is given (lower ones removed when
    `remove_previous`). Down: the roles of the levels lost are removed and the role of the
    new level (the highest level role at or below it), if any, is given; climbing back grants
    a role again, once, as the first time.
    """
    if after > before:
        reached = _role_at({lvl: r for lvl, r in roles.items() if lvl > before}, after)
        if reached is None:
            return None
        top, grant = reached
        lower = (roles[lvl] for lvl in sorted(roles) if lvl < top and roles[lvl] != grant)
        return RoleChange(grant, tuple(dict.fromkeys(lower)) if remove_previous else ())
    if after < before:
        lost = [roles[lvl] for lvl in sorted(roles) if after < lvl <= before]
        if not lost:
            return None
        kept = _role_at(roles, after)
        grant = "" if kept is None else kept[1]
        revoke = tuple(r for r in dict.fromkeys(lost) if r != grant)
        return RoleChange(grant, revoke) if revoke else None  # else: the same role held
    return None
