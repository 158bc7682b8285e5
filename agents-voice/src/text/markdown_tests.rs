use super::*;

const CHUNK_SIZES: [usize; 8] = [1, 2, 3, 5, 7, 11, 50, 10_000];

/// Feeds `text` in chunks of `size` characters.
fn filtered(text: &str, size: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut f = MarkdownFilter::new();
    let mut out = String::new();
    for chunk in chars.chunks(size) {
        out.push_str(&f.push(&chunk.iter().collect::<String>()));
    }
    out.push_str(&f.finish());
    out
}

const INPUT: &str = "# Weekly Plan for the Clinic

Hey there~~ see you soon?  # the ~~ stays here.
Today we have **three visits** and *one call* to make.

## Prices
- Checkup: 40 + 10 = 50
- Refund: 20 - 5 = 15
- Doubled: 4 * 6 = 24
* Star item: done
+ Plus item: done

### Commands
Run `make test` before: `cargo build --release`

The total is **50** because the fee is fixed.

> Note: call back before noon!
> Bring: ID (passport, licence, or card)

1. First step: (a + b) * c = d
2. Second step: x = 1, y = 2

Book on [our site](https://example.com/book) today.

![Map of the clinic](map.png) shows the entrance.

~~Old address~~ is gone.

---

```rust
fn fee(a: u32) -> u32 {
    a * 2
}
```

Plain text goes on! Symbols like + - * / stay in a sentence.
Names like user_id, max_retry_count and __private_init__ stay, and _private too.
But _this is italic_ and __this is bold__ and ***this is both***.
CJK: 这是**重要**的。テスト*強調*です。Done~~删除~~。";

const EXPECTED: &str = "Weekly Plan for the Clinic

Hey there~~ see you soon?  # the ~~ stays here.
Today we have three visits and one call to make.

Prices
Checkup: 40 + 10 = 50
Refund: 20 - 5 = 15
Doubled: 4 * 6 = 24
Star item: done
Plus item: done

Commands
Run make test before: cargo build --release

The total is 50 because the fee is fixed.

Note: call back before noon!
Bring: ID (passport, licence, or card)

1. First step: (a + b) * c = d
2. Second step: x = 1, y = 2

Book on our site today.

Map of the clinic shows the entrance.

 is gone.




fn fee(a: u32) -> u32 {
    a * 2
}


Plain text goes on! Symbols like + - * / stay in a sentence.
Names like user_id, max_retry_count and __private_init__ stay, and _private too.
But this is italic and this is bold and this is both.
CJK: 这是重要的。テスト強調です。Done。";

#[test]
fn document_is_filtered_identically_for_every_chunk_size() {
    for size in CHUNK_SIZES {
        assert_eq!(filtered(INPUT, size), EXPECTED, "chunk size {size}");
    }
}

#[test]
fn emphasis_is_stripped() {
    let cases = [
        ("She said *yes* twice.", "She said yes twice."),
        ("A **strong** word.", "A strong word."),
        ("_lean_ text.", "lean text."),
        ("__heavy__ text.", "heavy text."),
        ("It is ***urgent*** now.", "It is urgent now."),
        ("Dial ***zero***!", "Dial zero!"),
        ("Meet **Ms. Lee**.", "Meet Ms. Lee."),
        ("Due **Friday**, at noon.", "Due Friday, at noon."),
        ("Press (**2**) now.", "Press (2) now."),
        ("Say \"**hi**\" first.", "Say \"hi\" first."),
        ("**_nested_** ok.", "nested ok."),
        ("_**nested**_ ok.", "nested ok."),
        ("这是**很重要**的。", "这是很重要的。"),
        ("한국어**강조**입니다.", "한국어강조입니다."),
    ];
    for (input, expected) in cases {
        for size in [1, 2, 3, 7, 50] {
            assert_eq!(
                filtered(input, size),
                expected,
                "{input:?} at chunk size {size}"
            );
        }
    }
}

#[test]
fn non_markdown_is_preserved() {
    let cases = [
        "2 * 3 = 6",
        "Use *.rs files",
        "a**2 + b**2 = c**2",
        "p ** q",
        "n = m *** k",
        "__dunder_name__ stays",
        "x___y and LIMIT___MAX",
        "long___snake___name",
        "テスト__強調__です。",
        "****four****",
        "**bold***italic*",
        "look ***** there",
        "open ***end",
        "wait --- what?",
        "array[0] and [note] here",
    ];
    for input in cases {
        for size in [1, 3, 7, 50] {
            assert_eq!(filtered(input, size), input, "chunk size {size}");
        }
    }
}

#[test]
fn horizontal_rules_vanish_but_indented_code_stays() {
    let cases = [
        ("a\n---\nb", "a\n\nb"),
        ("a\n* * *\nb", "a\n\nb"),
        ("a\n  ___  \nb", "a\n\nb"),
        ("*****", ""),
        ("a\n    ---\nb", "a\n    ---\nb"),
        ("a\n\t---\nb", "a\n\t---\nb"),
    ];
    for (input, expected) in cases {
        for size in [1, 3, 50] {
            assert_eq!(
                filtered(input, size),
                expected,
                "{input:?} at chunk size {size}"
            );
        }
    }
}

#[test]
fn text_flows_before_the_line_ends() {
    let mut f = MarkdownFilter::new();
    let out = f.push("Hello **there** my friend, how");
    assert_eq!(
        out, "Hello there my friend, ",
        "closed text is released at once"
    );
    assert_eq!(f.finish(), "how");
}
