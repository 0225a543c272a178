/// Tests of the BERT WordPiece tokenizer. Every expected id list was produced by the reference:
/// `tokenizers.Tokenizer.from_file(all-MiniLM-L6-v2/tokenizer.json)` (no padding; truncation as
/// stated), transformers 5.24 `BertTokenizer.from_pretrained(model, do_lower_case=False)` for the
/// cased cases, and a `tokenizers` WordPiece + BertNormalizer + BertPreTokenizer pipeline over the
/// small vocabulary below for the hand-made-vocabulary cases.
import BertIR
import BertTokenizer
import Foundation
import XCTest

final class TokenizerTests: XCTestCase {
    /// The MiniLM vocabulary: the fixture copy, else the model folder (BERTC_MINILM_DIR or
    /// .models/all-MiniLM-L6-v2). Fails the test when none is present.
    static func miniLMVocabPath() throws -> String {
        var candidates = [TestPaths.fixture("minilm/vocab.txt")]
        if let dir = ProcessInfo.processInfo.environment["BERTC_MINILM_DIR"] { candidates.append(dir + "/vocab.txt") }
        candidates.append(TestPaths.repoRoot.appendingPathComponent(".models/all-MiniLM-L6-v2/vocab.txt").path)
        guard let path = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            XCTFail("MiniLM vocab.txt not found; looked at \(candidates.joined(separator: ", "))")
            throw BertError("vocab.txt", "not found")
        }
        return path
    }

    static func miniLM(_ options: TokenizerOptions = TokenizerOptions()) throws -> WordPieceTokenizer {
        let path = try miniLMVocabPath()
        return try WordPieceTokenizer(vocab: WordPieceTokenizer.loadVocab(path: path), options: options, file: path)
    }

    func check(_ tok: WordPieceTokenizer, _ text: String, _ expected: [Int32],
               file: StaticString = #filePath, line: UInt = #line) {
        let e = tok.encode(text, maxLength: 100_000)
        XCTAssertEqual(e.ids, expected, "ids of \(text.debugDescription)", file: file, line: line)
        XCTAssertEqual(e.typeIds, [Int32](repeating: 0, count: e.ids.count), file: file, line: line)
    }

    // MARK: - MiniLM vocabulary, uncased (the checkpoint's own settings)

    func testVocabularyBasics() throws {
        let tok = try Self.miniLM()
        XCTAssertEqual(tok.vocabSize, 30522)
        XCTAssertEqual(tok.padId, 0)
    }

    func testPlainAndPunctuation() throws {
        let tok = try Self.miniLM()
        check(tok, "Hello, world! How are you?", [101, 7592, 1010, 2088, 999, 2129, 2024, 2017, 1029, 102])
        check(tok, "Hey friend!     How are you?!?", [101, 4931, 2767, 999, 2129, 2024, 2017, 1029, 999, 1029, 102])
        check(tok, "a`b^c ¿qué? «x» 5$ 3.14 e-mail",
              [101, 1037, 1036, 1038, 1034, 1039, 1094, 10861, 1029, 1077, 1060, 1090, 1019, 1002, 1017, 1012,
               2403, 1041, 1011, 5653, 102])
        check(tok, "unaffable tokenization", [101, 14477, 20961, 3468, 19204, 3989, 102])
        XCTAssertEqual(tok.tokenize("unaffable tokenization"), ["una", "##ffa", "##ble", "token", "##ization"])
        check(tok, "", [101, 102])
        check(tok, "   \t\n ", [101, 102])
    }

    func testAccentsAndCaseFolding() throws {
        let tok = try Self.miniLM()
        let expected: [Int32] = [101, 7668, 13675, 21382, 7987, 9307, 2063, 1010, 15743, 17076, 15687, 102]
        check(tok, "Café crème brûlée, naïve Ångström", expected)  // precomposed (NFC)
        check(tok, "Cafe\u{301} cre\u{300}me bru\u{302}le\u{301}e, nai\u{308}ve A\u{30A}ngstro\u{308}m", expected)  // NFD
        // İ: accents are stripped before lowercasing; Σ lowercases to σ even at the end of a word.
        check(tok, "İstanbul ΣΑΣ straße", [101, 9960, 1173, 14608, 29733, 2358, 27807, 102])
        XCTAssertEqual(tok.tokenize("İstanbul ΣΑΣ straße"), ["istanbul", "σ", "##α", "##σ", "st", "##raße"])
    }

    func testCJKHangulAndUnknowns() throws {
        let tok = try Self.miniLM()
        check(tok, "Mixed: hello世界foo中bar 𠀀", [101, 3816, 1024, 7592, 1745, 100, 29379, 1746, 3347, 100, 102])
        // Hangul syllables decompose to jamo (NFD); half-width katakana stays one unknown word.
        check(tok, "한국어 ｶﾀｶﾅ", [101, 1469, 30006, 30021, 29991, 30014, 30020, 29999, 30008, 100, 102])
        check(tok, "😀 ǅ ﬃ", [101, 100, 100, 100, 102])
    }

    func testControlAndWhitespaceCharacters() throws {
        let tok = try Self.miniLM()
        // NUL, ZWSP, U+FFFD, BEL, soft hyphen, BOM, NEL and VT are deleted (NEL and VT do not split).
        check(tok, "a\u{0}b\u{200B}c\u{FFFD}d\u{7}e\u{AD}f\u{FEFF}g \u{85}h\u{B}i", [101, 5925, 3207, 2546, 2290, 7632, 102])
        check(tok, "tab\there\nnew\r\nline\u{A0}nbsp\u{3000}ideo\u{2028}ls",
              [101, 21628, 2182, 2047, 2240, 1050, 5910, 2361, 8909, 8780, 1048, 2015, 102])
    }

    func testLiteralSpecialTokens() throws {
        let tok = try Self.miniLM()
        check(tok, "x[MASK]y a[SEP]b [cls] [PAD][UNK]", [101, 1060, 103, 1061, 1037, 102, 1038, 1031, 18856, 2015, 1033, 0, 100, 102])
    }

    func testLongWords() throws {
        let tok = try Self.miniLM()
        let hundred = [Int32(101), 13360] + [Int32](repeating: 11057, count: 48) + [2050, 102]
        check(tok, String(repeating: "a", count: 100), hundred)
        check(tok, String(repeating: "b", count: 101), [101, 100, 102])
        // Only the over-long word becomes [UNK]; its neighbours are unaffected.
        XCTAssertEqual(tok.tokenize(String(repeating: "b", count: 101) + " ok"), ["[UNK]", "ok"])
    }

    // MARK: - Truncation

    let one8 = "one two three four five six seven eight"   // 8 pieces
    let alpha5 = "alpha beta gamma delta epsilon"         // 5 pieces
    let red5 = "red green blue white yellow"              // 5 pieces

    func testSingleTruncation() throws {
        let tok = try Self.miniLM()
        let full: [Int32] = [101, 2028, 2048, 2093, 2176, 2274, 2416, 2698, 2809, 102]
        XCTAssertEqual(tok.encode(one8, maxLength: 0).ids, full)   // fewer than the 2 specials: untouched
        XCTAssertEqual(tok.encode(one8, maxLength: 1).ids, full)
        XCTAssertEqual(tok.encode(one8, maxLength: 2).ids, [101, 102])
        XCTAssertEqual(tok.encode(one8, maxLength: 3).ids, [101, 2028, 102])
        XCTAssertEqual(tok.encode(one8, maxLength: 5).ids, [101, 2028, 2048, 2093, 102])
        XCTAssertEqual(tok.encode(one8, maxLength: 10).ids, full)
        XCTAssertEqual(tok.encode(one8, maxLength: 512).ids, full)
    }

    func testPairTruncationLongestFirst() throws {
        let tok = try Self.miniLM()
        func pair(_ a: String, _ b: String, _ m: Int, _ ids: [Int32], _ types: [Int32], line: UInt = #line) {
            let e = tok.encode(a, pair: b, maxLength: m)
            XCTAssertEqual(e.ids, ids, "max \(m)", line: line)
            XCTAssertEqual(e.typeIds, types, "max \(m)", line: line)
        }
        // Fewer than the 3 specials: untouched.
        pair(one8, alpha5, 2, [101, 2028, 2048, 2093, 2176, 2274, 2416, 2698, 2809, 102, 6541, 8247, 13091, 7160, 28038, 102],
             [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
        pair(one8, alpha5, 3, [101, 102, 102], [0, 0, 1])
        pair(one8, alpha5, 4, [101, 2028, 102, 102], [0, 0, 0, 1])
        pair(alpha5, one8, 4, [101, 102, 2028, 102], [0, 0, 1, 1])
        pair(one8, alpha5, 5, [101, 2028, 102, 6541, 102], [0, 0, 0, 1, 1])
        pair(one8, alpha5, 8, [101, 2028, 2048, 2093, 102, 6541, 8247, 102], [0, 0, 0, 0, 0, 1, 1, 1])
        pair(alpha5, one8, 8, [101, 6541, 8247, 102, 2028, 2048, 2093, 102], [0, 0, 0, 0, 1, 1, 1, 1])
        pair(one8, alpha5, 11, [101, 2028, 2048, 2093, 2176, 102, 6541, 8247, 13091, 7160, 102], [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
        pair(one8, alpha5, 13, [101, 2028, 2048, 2093, 2176, 2274, 102, 6541, 8247, 13091, 7160, 28038, 102],
             [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
        pair(alpha5, one8, 13, [101, 6541, 8247, 13091, 7160, 28038, 102, 2028, 2048, 2093, 2176, 2274, 102],
             [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
        // Equal lengths (ties): an odd budget gives the extra token to the second text.
        pair(alpha5, red5, 8, [101, 6541, 8247, 102, 2417, 2665, 2630, 102], [0, 0, 0, 0, 1, 1, 1, 1])
        pair(alpha5, red5, 10, [101, 6541, 8247, 13091, 102, 2417, 2665, 2630, 2317, 102], [0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
        pair(alpha5, red5, 11, [101, 6541, 8247, 13091, 7160, 102, 2417, 2665, 2630, 2317, 102], [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
        pair(alpha5, red5, 14, [101, 6541, 8247, 13091, 7160, 28038, 102, 2417, 2665, 2630, 2317, 3756, 102],
             [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    }

    // MARK: - Cased

    func testCasedKeepsCaseAndAccents() throws {
        let cased = try Self.miniLM(TokenizerOptions(doLowerCase: false))
        check(cased, "Hello World, HELLO world", [101, 100, 100, 1010, 100, 2088, 102])
        check(cased, "hello café naïve über World", [101, 7592, 100, 100, 100, 100, 102])
        check(cased, "straße Straße", [101, 2358, 27807, 100, 102])
        check(cased, "résumé x\u{301} ß İi", [101, 100, 100, 1096, 100, 102])
        let uncased = try Self.miniLM()
        check(uncased, "Hello World, HELLO world", [101, 7592, 2088, 1010, 7592, 2088, 102])
    }

    // MARK: - Hand-made vocabulary

    static let smallVocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "aff", "##a", "한", "ᄒ",
                             "##ᅡ", "##ᆫ", "é", "e", "##ffa", "ab", "abc", "##c", "##bc", "##b", "a", "##é"]

    func testGreedyLongestMatchFirst() throws {
        let tok = try WordPieceTokenizer(vocab: Self.smallVocab, options: TokenizerOptions())
        XCTAssertEqual(tok.encode("unaffable", maxLength: 64).ids, [2, 5, 6, 7, 3])
        XCTAssertEqual(tok.encode("UNAFFABLE", maxLength: 64).ids, [2, 5, 6, 7, 3])
        XCTAssertEqual(tok.encode("abcc", maxLength: 64).ids, [2, 18, 19, 3])
        XCTAssertEqual(tok.encode("unaffa", maxLength: 64).ids, [2, 5, 6, 9, 3])
        XCTAssertEqual(tok.encode("ab-c", maxLength: 64).ids, [2, 17, 1, 1, 3])
        XCTAssertEqual(tok.encode("xyz abc", maxLength: 64).ids, [2, 1, 18, 3])
        XCTAssertEqual(tok.encode("aé", maxLength: 64).ids, [2, 1, 3])
        XCTAssertEqual(tok.encode("한", maxLength: 64).ids, [2, 11, 12, 13, 3])
        XCTAssertEqual(tok.encode("e\u{301}", maxLength: 64).ids, [2, 15, 3])
        XCTAssertEqual(tok.padId, 0)
        XCTAssertEqual(tok.vocabSize, 24)
    }

    /// Lookups compare bytes: a decomposed "é" must not match the precomposed entry (Swift String
    /// equality would say they are equal).
    func testCasedLookupIsByteExact() throws {
        let tok = try WordPieceTokenizer(vocab: Self.smallVocab, options: TokenizerOptions(doLowerCase: false))
        XCTAssertEqual(tok.encode("e\u{301}", maxLength: 64).ids, [2, 1, 3])
        XCTAssertEqual(tok.encode("\u{E9}", maxLength: 64).ids, [2, 14, 3])
        XCTAssertEqual(tok.encode("한", maxLength: 64).ids, [2, 10, 3])
        XCTAssertEqual(tok.encode("aé", maxLength: 64).ids, [2, 22, 23, 3])
        XCTAssertEqual(tok.encode("UNAFFABLE", maxLength: 64).ids, [2, 1, 3])
    }

    // MARK: - Vocabulary files

    func testLoadVocabLinesAndDuplicates() throws {
        let dir = try TestPaths.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/vocab.txt"
        try Data("[PAD]\r\n[UNK]\n[CLS]\n[SEP]\nhello\nhello\n\nworld".utf8).write(to: URL(fileURLWithPath: path))
        let vocab = try WordPieceTokenizer.loadVocab(path: path)
        XCTAssertEqual(vocab, ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello", "hello", "", "world"])
        let tok = try WordPieceTokenizer(vocab: vocab, options: TokenizerOptions())
        XCTAssertEqual(tok.encode("Hello world", maxLength: 16).ids, [2, 4, 7, 3])  // first "hello" wins
        XCTAssertEqual(tok.vocabSize, 8)

        try Data("a\nb\n".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try WordPieceTokenizer.loadVocab(path: path), ["a", "b"])
    }

    func testVocabErrors() throws {
        let dir = try TestPaths.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/vocab.txt"
        XCTAssertThrowsError(try WordPieceTokenizer.loadVocab(path: path)) { error in
            XCTAssertEqual((error as? BertError)?.file, path)
        }
        try Data([0x61, 0x0A, 0xFF, 0xFE, 0x0A]).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try WordPieceTokenizer.loadVocab(path: path)) { error in
            XCTAssertEqual((error as? BertError)?.message, "line 2 is not valid UTF-8")
        }
        try Data().write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try WordPieceTokenizer.loadVocab(path: path))
        for missing in ["[CLS]", "[SEP]", "[UNK]"] {
            let vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a"].filter { $0 != missing }
            XCTAssertThrowsError(try WordPieceTokenizer(vocab: vocab, options: TokenizerOptions(), file: "v.txt")) { error in
                XCTAssertEqual(error as? BertError, BertError("v.txt", "vocabulary has no \(missing) token"))
            }
        }
        let noPad = try WordPieceTokenizer(vocab: ["[UNK]", "[CLS]", "[SEP]"], options: TokenizerOptions())
        XCTAssertEqual(noPad.padId, 0)
        XCTAssertEqual(noPad.encode("zzz", maxLength: 8).ids, [1, 0, 2])
    }

    // MARK: - The MiniLM fixture (tokenizer.json ids for 2,000+ lines)

    func testMiniLMFixtureLines() throws {
        let fixture = TestPaths.fixture("minilm/tokenization.jsonl")
        guard FileManager.default.fileExists(atPath: fixture) else {
            XCTFail("fixture \(fixture) not found (tools/make_minilm_reference.py writes it)")
            return
        }
        let tok = try Self.miniLM()
        let lines = try readJSONLines(fixture)
        XCTAssertGreaterThanOrEqual(lines.count, 2000)
        var matched = 0
        var failures: [String] = []
        let start = Date()
        for (i, line) in lines.enumerated() {
            guard let text = line["text"] as? String else { XCTFail("line \(i + 1) has no text"); continue }
            let expected = ints(line["ids"])
            XCTAssertFalse(expected.isEmpty, "line \(i + 1) has no ids")
            let got = tok.encode(text, maxLength: 100_000)
            if got.ids == expected {
                matched += 1
            } else if failures.count < 5 {
                failures.append("line \(i + 1) \(text.debugDescription): expected \(expected), got \(got.ids)")
            }
        }
        let seconds = Date().timeIntervalSince(start)
        print("TokenizerTests: \(matched) of \(lines.count) MiniLM fixture lines match (\(String(format: "%.2f", seconds)) s)")
        XCTAssertEqual(matched, lines.count, failures.joined(separator: "\n"))
    }
}
