"""The report's front: its title block and the review question, from the review's protocol
(the config's ``review:`` section, written to ``results/review.json``). Nothing of it is in the
report's source, so a report speaks of the review it was given."""

from __future__ import annotations

__all__ = ["review_intro", "title_block"]


def _text(review: dict, key: str) -> str:
    value = review.get(key)
    return "" if value is None else str(value).strip()


def title_block(review: dict) -> dict:
    """Title, subtitle and authors as document metadata (Quarto's and pandoc's names); keys the
    protocol leaves empty are left out. A protocol without a title is a ``ValueError``."""
    title = _text(review, "title")
    if not title:
        raise ValueError("the review's protocol has no title (review.title in the config)")
    out = {"title": title}
    if _text(review, "subtitle"):
        out["subtitle"] = _text(review, "subtitle")
    authors = [str(a).strip() for a in review.get("authors") or [] if str(a).strip()]
    if authors:
        out["author"] = authors
    return out


def review_intro(review: dict) -> str:
    """The review question and where the protocol is registered, as the report's opening
    paragraph (markdown); empty when the protocol states neither."""
    parts = []
    if _text(review, "question"):
        parts.append(f"**Review question.** {_text(review, 'question')}")
    if _text(review, "registration"):
        parts.append(f"**Protocol registration.** {_text(review, 'registration')}")
    return "\n\n".join(parts) + ("\n\n" if parts else "")
