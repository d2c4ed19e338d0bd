//! Escaping user data (product names, titles, messages) for the chat
//! channels, so that a name is shown as written and cannot mention a whole
//! channel, add a link or restyle the message.

/// Slack's mrkdwn: `&`, `<` and `>` are its only control characters (they
/// open mentions such as `<!channel>` and links such as `<https://…|…>`);
/// Slack asks for exactly these three as HTML entities, and nothing else.
pub fn slack(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Characters that start emphasis, links, code, HTML or tables anywhere in
/// a line of Markdown as Teams renders it (Adaptive Card TextBlocks and
/// FactSets, MessageCard text).
const MARKDOWN_INLINE: &[char] = &['\\', '*', '_', '`', '~', '[', ']', '(', ')', '<', '>', '#', '|', '!'];

/// Markdown for Teams: every character that could start markup is
/// backslash-escaped, inline ones anywhere and block markers (`-`, `+`,
/// `=`, `1.`, `1)`) at the start of a line, so the text renders literally.
pub fn markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
        let (lead, rest) = line.split_at(indent);
        out.push_str(lead);
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        for (j, c) in rest.char_indices() {
            let block_marker =
                (j == 0 && matches!(c, '-' | '+' | '=')) || (j == digits && digits > 0 && matches!(c, '.' | ')'));
            if block_marker || MARKDOWN_INLINE.contains(&c) {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

/// A fenced code block holding `text` literally: the fence is longer than
/// any run of backticks inside, so the text cannot close it.
pub fn code_block(text: &str) -> String {
    let longest_run = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run.max(2) + 1);
    format!("{fence}\n{text}\n{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_number_before_a_dot_or_parenthesis_makes_a_list_marker() {
        assert_eq!(markdown("1. first"), "1\\. first");
        assert_eq!(markdown(".5 is not a list"), ".5 is not a list");
    }

    #[test]
    fn slack_control_characters_become_entities() {
        assert_eq!(
            slack("<!channel> *x* [a](https://evil) <https://evil|click> & co"),
            "&lt;!channel&gt; *x* [a](https://evil) &lt;https://evil|click&gt; &amp; co"
        );
        assert_eq!(slack("&lt;"), "&amp;lt;", "an entity in a name is shown as typed");
    }

    #[test]
    fn markdown_links_emphasis_and_code_are_escaped() {
        assert_eq!(
            markdown("<!channel> *x* [a](https://evil)"),
            r"\<\!channel\> \*x\* \[a\]\(https://evil\)"
        );
        assert_eq!(markdown("__b__ `c` ~~d~~ a\\b"), r"\_\_b\_\_ \`c\` \~\~d\~\~ a\\b");
        assert_eq!(
            markdown("Shop 2.0 - v1"),
            "Shop 2.0 - v1",
            "ordinary text stays as it is"
        );
    }

    #[test]
    fn markdown_block_markers_are_escaped_at_line_starts_only() {
        assert_eq!(markdown("- item"), r"\- item");
        assert_eq!(markdown("+ item"), r"\+ item");
        assert_eq!(markdown("12. item"), r"12\. item");
        assert_eq!(markdown("3) item"), r"3\) item");
        assert_eq!(markdown("# head"), r"\# head");
        assert_eq!(markdown("a\n  - b\n==="), "a\n  \\- b\n\\===");
        assert_eq!(markdown("> quote"), r"\> quote");
        assert_eq!(markdown("a-b 1. c"), "a-b 1. c");
    }

    #[test]
    fn code_blocks_cannot_be_closed_from_inside() {
        assert_eq!(code_block("at x"), "```\nat x\n```");
        let block = code_block("a\n````\n[x](https://evil)");
        assert!(block.starts_with("`````\n"), "{block}");
        assert!(block.ends_with("\n`````"), "{block}");
    }
}
