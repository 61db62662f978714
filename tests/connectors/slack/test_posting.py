from __future__ import annotations

from opscontext_connectors.slack.posting import TEXT_LIMIT, status_text

from opscontext_mcp.model import StatusMessage


def test_the_incident_id_comes_first_when_the_message_has_one() -> None:
    assert status_text(StatusMessage(incident_id="INC-42", text="Mitigated.")) == "[INC-42] Mitigated."
    assert status_text(StatusMessage(text="Mitigated.")) == "Mitigated."


def test_text_at_slack_s_limit_is_sent_whole() -> None:
    text = "x" * TEXT_LIMIT
    assert status_text(StatusMessage(text=text)) == text


def test_text_over_slack_s_limit_is_cut_to_it_with_a_marker_saying_so() -> None:
    cut = status_text(StatusMessage(incident_id="INC-42", text="x" * 50_000))

    assert len(cut) == TEXT_LIMIT == 40_000
    assert cut.startswith("[INC-42] xxx")
    assert cut.endswith("\n… [cut here: the update is longer than Slack's 40,000-character limit]")


def test_markup_in_the_text_is_escaped_so_upstream_data_cannot_ping_a_channel_or_hide_a_link() -> None:
    text = status_text(StatusMessage(text="<!channel> p99 > 2s & rising <https://evil.example|runbook>"))
    assert text == "&lt;!channel&gt; p99 &gt; 2s &amp; rising &lt;https://evil.example|runbook&gt;"
