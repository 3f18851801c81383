"""{% cache %} fragments: Flask-Caching's keys (unambiguous ones on demand), any stable vary
value, escaping kept."""

from __future__ import annotations

from typing import Any

from flask import render_template_string

from flask_viewcache import make_template_fragment_key


def test_string_parts_give_flask_cachings_keys() -> None:
    assert make_template_fragment_key("box") == "_template_fragment_cache_box"
    assert make_template_fragment_key("box", ["ann", "en"]) == "_template_fragment_cache_box_ann_en"


def test_with_digest_keys_parts_never_run_together(make_app: Any) -> None:
    app, _ = make_app({"CACHE_FRAGMENT_KEY_DIGEST": True})
    with app.app_context():
        assert make_template_fragment_key("a", ["b"]) != make_template_fragment_key("a_b")
        pair = make_template_fragment_key("a", ["b", "c"])
        assert pair != make_template_fragment_key("a", ["b_c"])
    assert make_template_fragment_key("a", [1]) != make_template_fragment_key("a", ["1"])


def test_tag_parts_never_run_together_with_digest_keys(make_app: Any) -> None:
    app, _ = make_app({"CACHE_FRAGMENT_KEY_DIGEST": True})
    split = "{% cache 60, 'a', 'b' %}{{ value }}{% endcache %}"
    joined = "{% cache 60, 'a_b' %}{{ value }}{% endcache %}"
    with app.test_request_context():
        assert render_template_string(split, value="split") == "split"
        assert render_template_string(joined, value="joined") == "joined"
        assert render_template_string(split, value="again") == "split"


def test_non_string_vary_values(make_app: Any) -> None:
    app, _ = make_app()
    template = "{% cache 60, 'row', item_id, page, flags %}{{ value }}{% endcache %}"
    with app.test_request_context():
        first = render_template_string(template, item_id=7, page=None, flags=(1, 2), value="x")
        again = render_template_string(template, item_id=7, page=None, flags=(1, 2), value="y")
        other = render_template_string(template, item_id=8, page=None, flags=(1, 2), value="z")
    assert (first, again, other) == ("x", "x", "z")


def test_escaping_is_kept(make_app: Any) -> None:
    app, _ = make_app()
    template = "{% cache 60, 'esc' %}<b>{{ value }}</b>{% endcache %}"
    with app.test_request_context():
        first = render_template_string(template, value="<i>")
        second = render_template_string(template, value="other")
    assert first == second == "<b>&lt;i&gt;</b>"


def test_unnamed_fragments_are_named_by_their_line(make_app: Any) -> None:
    app, _ = make_app()
    template = "{% cache 60 %}{{ a }}{% endcache %}\n{% cache 60 %}{{ b }}{% endcache %}"
    with app.test_request_context():
        assert render_template_string(template, a="1", b="2") == "1\n2"
        assert render_template_string(template, a="3", b="4") == "1\n2"


def test_fragments_count_in_stats(make_app: Any) -> None:
    app, cache = make_app()
    template = "{% cache 60, 'counted' %}x{% endcache %}"
    with app.test_request_context():
        render_template_string(template)
        render_template_string(template)
        assert cache.stats()["functions"]["fragment:counted"]["hits"] == 1
