using System.Text.Json;
using GpuTransformer.Tokenizer;
using Xunit;

namespace GpuTransformer.Tests.Tokenizer;

/// <summary>
/// The SentencePiece port against the sentencepiece library itself (testdata/tokenizer/reference_*.json, made by
/// make_reference.py with python3-sentencepiece 0.1.97) on Multi30k test lines and hand-written edge cases.
/// </summary>
public sealed class SentencePieceReferenceTests
{
    public static TheoryData<string> ReferenceFiles() => [.. TokenizerTestData.ReferenceFiles()];

    public static TheoryData<string> MarianReferenceFiles() =>
        [.. TokenizerTestData.ReferenceFiles().Where(f => !f.StartsWith("reference_bytefallback", StringComparison.Ordinal))];

    [Fact]
    public void AllReferenceFilesArePresent()
    {
        Assert.Equal(14, TokenizerTestData.ReferenceFiles().Count());
    }

    [Theory]
    [MemberData(nameof(ReferenceFiles))]
    public void PiecesIdsAndDecodeMatchLibrary(string file)
    {
        using var doc = TokenizerTestData.Json($"testdata/tokenizer/{file}");
        var model = SentencePieceModel.Load(TokenizerTestData.PathOf(doc.RootElement.GetProperty("spm").GetString()!));
        int line = 0;
        foreach (JsonElement c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            string text = c.GetProperty("text").GetString()!;
            string[] pieces = TokenizerTestData.Strings(c.GetProperty("pieces"));
            Assert.True(pieces.SequenceEqual(model.EncodeAsPieces(text)), $"{file} line {line}: pieces of '{text}'");
            Assert.True(TokenizerTestData.Ints(c.GetProperty("ids")).SequenceEqual(model.EncodeAsIds(text)), $"{file} line {line}: ids of '{text}'");
            Assert.Equal(c.GetProperty("decoded").GetString(), model.DecodePieces(pieces));
            line++;
        }
    }

    [Theory]
    [MemberData(nameof(MarianReferenceFiles))]
    public void MarianIdsMatchPiecesThroughVocab(string file)
    {
        using var doc = TokenizerTestData.Json($"testdata/tokenizer/{file}");
        string spm = doc.RootElement.GetProperty("spm").GetString()!;
        var tokenizer = MarianTokenizer.Load(TokenizerTestData.PathOf(Path.GetDirectoryName(spm)!));
        bool target = file.Contains("_target_", StringComparison.Ordinal);
        int line = 0;
        foreach (JsonElement c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            string text = c.GetProperty("text").GetString()!;
            int[] expected = TokenizerTestData.Ints(c.GetProperty("marian_ids"));
            int[] actual = target ? tokenizer.EncodeTarget(text) : tokenizer.EncodeSource(text);
            Assert.True(expected.SequenceEqual(actual), $"{file} line {line}: Marian ids of '{text}'");
            line++;
        }
    }

    [Fact]
    public void DecodeIdsRoundTripsPlainText()
    {
        var model = SentencePieceModel.Load(TokenizerTestData.PathOf("models/multi30k-en-de-small/source.spm"));
        Assert.Equal("A dog runs in the park.", model.DecodeIds(model.EncodeAsIds("  A dog   runs in the park.  ")));
        Assert.Equal("nmt_nfkc", model.NormalizerName);
        Assert.Equal(SentencePieceModelType.Unigram, model.ModelType);
        Assert.Equal(4000, model.PieceCount);
        Assert.Equal(0, model.UnkId);
        Assert.Equal(SentencePiecePieceType.Control, model.GetPieceType(1));
        Assert.Equal(model.UnkId, model.PieceToId("no such piece"));
        Assert.Equal("\u2581a", model.IdToPiece(3));
    }

    [Fact]
    public void BrokenByteSequencesDecodeToReplacementCharacters()
    {
        // Expected strings are what python3-sentencepiece 0.1.97 returns for the same pieces.
        var model = SentencePieceModel.Load(TokenizerTestData.PathOf("testdata/tokenizer/bytefallback.model"));
        Assert.True(model.ByteFallback);
        Assert.Equal("\uFFFDa\u4E2D\uFFFD", model.DecodePieces(["<0xE4>", "a", "<0xE4>", "<0xB8>", "<0xAD>", "<0xB8>"]));
        Assert.Equal("a \u2047 xyz", model.DecodePieces(["\u2581", "\u2581a", "<unk>", "xyz"]));
    }

    [Fact]
    public void DecodeIdsRejectsIdsOutsideTheVocabulary()
    {
        var model = SentencePieceModel.Load(TokenizerTestData.PathOf("testdata/tiny-marian-en-de/source.spm"));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.DecodeIds([3, 500]));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.DecodeIds([-1]));
    }
}
