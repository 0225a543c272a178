"""Hand-written hard inputs shared by make_fixtures.py and make_minilm_reference.py.

Each list holds plain Python strings; nothing here depends on torch or transformers.
HARD_LINES are the crafted edge cases for a BERT WordPiece tokenizer (Unicode
normalisation, control characters, whitespace kinds, scripts, emoji, long words...).
"""

import unicodedata

LONG_WORD = "supercalifragilistic" * 6  # 120 letters: longer than max_input_chars_per_word (100)
EXACT_100 = "a" * 100  # exactly 100 chars: still WordPiece-tokenised
EXACT_101 = "b" * 101  # 101 chars: becomes [UNK]

HARD_LINES = [
    # accents and diacritics, NFC then NFD
    "Café crème brûlée à la carte, naïve façade, coöperate, jalapeño, Ångström.",
    unicodedata.normalize("NFD", "Café crème brûlée à la carte, naïve façade, coöperate, jalapeño, Ångström."),
    "Über München nach Zürich: Straße, Fußgänger, GROẞE Größe.",
    unicodedata.normalize("NFD", "Über München nach Zürich: Straße, Fußgänger, GROẞE Größe."),
    "Dvořák, Łódź, Kraków, Škoda, Ørsted, Æsir, Œuvre, Þórr, ðe.",
    "Vietnamese: Tiếng Việt có dấu, Hà Nội, Sài Gòn, phở bò.",
    unicodedata.normalize("NFD", "Vietnamese: Tiếng Việt có dấu, Hà Nội, Sài Gòn, phở bò."),
    "résumé RÉSUMÉ Résumé resume",
    # combining marks on their own / stacked
    "\u0301 alone, a\u0301\u0302\u0303 stacked, \u0308\u0308 twice, e\u0327\u0306",
    "combining at start: \u0300abc and end abc\u0301",
    # Turkish, German, ligatures
    "İstanbul ılık İI ıi: DİYARBAKIR ışık",
    "straße STRASSE Maß ß ẞ",
    "ﬁne ﬂour ﬀ ﬃ ﬄ ﬅ ﬆ oﬃce",
    # full-width ASCII and ideographic space
    "Ｆｕｌｌｗｉｄｔｈ　ＡＳＣＩＩ　１２３　！？",
    "ideographic\u3000space\u3000here",
    # CJK, Japanese, Korean
    "中文分词测试：我爱北京天安门。",
    "日本語のテキスト、ひらがなとカタカナ。東京タワー！",
    "ｶﾀｶﾅ半角 ﾃｽﾄ",
    "한국어 텍스트입니다. 서울특별시",
    "Mixed: hello世界foo中bar",
    "𠀀𠀁 extension B ideographs 𪚥 and 〇",
    # Thai, Arabic, Hebrew, Devanagari, Cyrillic, Greek
    "ภาษาไทยไม่มีช่องว่างระหว่างคำ",
    "العربية: مرحبا بالعالم، كيف حالك؟",
    "עברית: שלום עולם",
    "हिन्दी: नमस्ते दुनिया",
    "Русский текст: Привет, мир! Ёлка ёжик.",
    "Ελληνικά: Γειά σου Κόσμε! ΆΈΉ άέή ς σ Σ",
    unicodedata.normalize("NFD", "Ελληνικά: Γειά σου Κόσμε! ΆΈΉ άέή ς σ Σ"),
    # emoji incl. ZWJ sequences, skin tones, flags, variation selectors
    "I love it 😀😃😄 so much ❤️ ❤ ♥",
    "family 👨‍👩‍👧‍👦 and 👩🏽‍💻 coder, 👍🏻👍🏿 thumbs",
    "flags 🇺🇸🇫🇷🇯🇵 and keycap 1️⃣ #️⃣",
    "emoji-glued😀word and word😀 😀word",
    # control and invisible characters
    "nul\x00char bell\x07char esc\x1b[31mred\x1b[0m",
    "zero\u200bwidth\u200bspace and zwj\u200dzwnj\u200c",
    "\ufeffBOM at start and in\ufeffmiddle",
    "soft\u00adhyphen co\u00adop\u00ader\u00adate",
    "replacement \ufffd char and \ufffd\ufffd",
    "del\x7fchar and c1\x85next \x9f",
    "private use \ue000\uf8ff and noncharacter \ufdd0",
    "unassigned \u0378 and \U000e0080 and \uffff end",
    "LRM\u200eRLM\u200f and bidi \u202aembed\u202c \u2066iso\u2069",
    # whitespace kinds
    "tab\tseparated\tvalues",
    "line one\nline two\r\nline three\rline four",
    "non\u00a0breaking\u00a0space and narrow\u202fnbsp and thin\u2009space",
    "em\u2003space en\u2002space hair\u200aspace line\u2028sep para\u2029sep",
    "   leading and trailing spaces   ",
    "\t\n \r",
    "multiple     spaces   between\t\t\twords",
    # long words
    LONG_WORD,
    "short " + EXACT_100 + " " + EXACT_101 + " end",
    "antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
    # URLs, emails, paths, code
    "Visit https://www.example.com/path/to/page?query=1&x=y#frag now!",
    "mail me at first.last+tag@example.co.uk or admin@localhost",
    "C:\\Users\\test\\file.txt and /usr/local/bin/python3",
    "x = foo(bar[0], {'k': v}) -> None; // comment /* block */",
    "@user #hashtag $TICKER %percent ^caret &amp; *star* _under_ ~tilde~ `code` |pipe|",
    # numbers with punctuation, currency, math
    "Prices: $1,234.56, €99,99, £5, ¥1000, ₹500, ₿0.001, 12¢",
    "Numbers: 3.14159, -42, +7, 1e-10, 1,000,000, 50%, 3/4, ½ ¼ ¾, 2²=4, x³",
    "Dates 2024-01-15, 15/01/2024, 10:30:45, 9am-5pm",
    "Math: ∀x∈ℝ, ∑ᵢ xᵢ ≤ ∞, √2 ≈ 1.414, α+β≠γ, ∂f/∂x, ∫₀¹",
    "Phone +1 (555) 123-4567 ext. 89",
    # ALL CAPS, mixed case
    "THIS MOVIE WAS ABSOLUTELY TERRIBLE!!! DO NOT WATCH IT.",
    "tHiS iS mIxEd CaSe TeXt WiTh iPhone and McDonald's",
    # apostrophes and quotes
    "It’s a ‘quoted’ “phrase” — with «guillemets» and „low quotes“.",
    "don't won't can't it's y'all 'tis rock 'n' roll",
    "Ellipsis… and dashes – — ‒ ― and bullets • ·",
    # punctuation runs
    "!!!???...,,,;;;:::---___",
    "Wow!!!!!! Really?!?! Yes...... no,,,,, ok.",
    "((nested [brackets {and} braces]))",
    "<html><body>Tags &lt;b&gt;</body></html>",
    # special tokens inside the text
    "[CLS] literal special tokens [SEP] in text [MASK] here [PAD] [UNK]",
    "lowercase [cls] and [mask] are not special",
    "glued[MASK]token and [SEP][SEP]",
    # misc symbols
    "© ® ™ § ¶ † ‡ ° ± × ÷ µ",
    "arrows ← → ↑ ↓ ⇒ ⇔ and box ┌─┐ └─┘ ░▒▓",
    "music ♪♫ chess ♔♕ cards ♠♣♥♦ weather ☀☁☂",
    "Roman numerals Ⅻ ⅻ and circled ① ② ⓐ",
    "superscript ¹²³ subscript ₁₂₃ fractions ⅓ ⅔",
    # empty-ish
    "",
    " ",
    "a",
    ".",
]


def json_dumps_line_safe(value):
    """json.dumps with UTF-8 kept, but every character some line readers treat as a line break
    (U+0085, U+2028, U+2029) and every C1/DEL control escaped, so one JSON object is one physical line."""
    import json

    s = json.dumps(value, ensure_ascii=False)
    out = []
    for ch in s:
        o = ord(ch)
        if o == 0x7F or 0x80 <= o <= 0x9F or o in (0x2028, 0x2029):
            out.append("\\u%04x" % o)
        else:
            out.append(ch)
    return "".join(out)
