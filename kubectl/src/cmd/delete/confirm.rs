//! `delete -i/--interactive`: the objects about to go are listed and the user must answer
//! `y` (either case) on stdin, read as Go's `fmt.Fscan` reads one word; anything else, or
//! no answer at all, cancels.

use std::io::BufRead;

/// The question upstream asks, for objects named `kind.group/name`.
pub fn prompt(names: &[String]) -> String {
    let mut s = format!(
        "You are about to delete the following {} resource(s):\n",
        names.len()
    );
    for n in names {
        s.push_str(n);
        s.push('\n');
    }
    s.push_str("Do you want to continue? (y/n): ");
    s
}

/// Whether the first word `input` offers is `y` or `Y`.
pub fn confirmed(input: impl BufRead) -> bool {
    first_word(input).is_some_and(|w| w.eq_ignore_ascii_case("y"))
}

/// The first whitespace-separated word, or None at end of input (Fscan's error).
fn first_word(input: impl BufRead) -> Option<String> {
    let mut word = Vec::new();
    for byte in input.bytes() {
        let Ok(b) = byte else { break };
        if b.is_ascii_whitespace() {
            if word.is_empty() {
                continue;
            }
            break;
        }
        word.push(b);
    }
    (!word.is_empty()).then(|| String::from_utf8_lossy(&word).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_question_lists_every_object() {
        let names = vec!["configmap/a".to_string(), "deployment.apps/b".to_string()];
        assert_eq!(
            prompt(&names),
            "You are about to delete the following 2 resource(s):\nconfigmap/a\ndeployment.apps/b\nDo you want to continue? (y/n): "
        );
    }

    #[test]
    fn only_y_confirms() {
        assert!(confirmed("y\n".as_bytes()));
        assert!(confirmed("  \n Y".as_bytes()));
        assert!(!confirmed("yes\n".as_bytes()));
        assert!(!confirmed("n\n".as_bytes()));
        assert!(!confirmed("".as_bytes()));
        assert!(!confirmed("\n\n".as_bytes()));
    }
}
