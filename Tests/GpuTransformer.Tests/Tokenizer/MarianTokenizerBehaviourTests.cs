using GpuTransformer.Tokenizer;
using Xunit;

namespace GpuTransformer.Tests.Tokenizer;

/// <summary>MarianTokenizer behaviour beyond the goldens: special tokens in text, language codes, truncation.</summary>
public sealed class MarianTokenizerBehaviourTests
{
    private readonly MarianTokenizer _tokenizer = MarianTokenizer.Load(TokenizerTestData.PathOf("testdata/tiny-marian-en-de"));

    [Fact]
    public void SpecialTokenStringsInTextStayWhole()
    {
        string[] hello = [.. _tokenizer.TokenizeSource("Hello")];
        string[] world = [.. _tokenizer.TokenizeSource("world")];
        Assert.Equal([.. hello, "</s>", .. world], _tokenizer.TokenizeSource("Hello</s>world"));
        Assert.Equal([.. hello, "<unk>", "<pad>", .. world], _tokenizer.TokenizeSource("Hello<unk><pad>world"));
        int[] ids = _tokenizer.EncodeSource("Hello<pad>world");
        Assert.Equal(_tokenizer.PadId, ids[hello.Length]);
        Assert.Equal(_tokenizer.EosId, ids[^1]);
        Assert.Equal([_tokenizer.EosId, _tokenizer.EosId], _tokenizer.EncodeSource("</s>"));
    }

    [Fact]
    public void LeadingLanguageCodeIsOneToken()
    {
        IReadOnlyList<string> tokens = _tokenizer.TokenizeSource(">>de<< Hello");
        Assert.Equal(">>de<<", tokens[0]);
        Assert.Equal(_tokenizer.TokenizeSource("Hello"), tokens.Skip(1));

        // The tiny vocabulary has no language codes, so the code maps to <unk>, as in transformers.
        Assert.Equal(_tokenizer.UnkId, _tokenizer.EncodeSource(">>de<< Hello")[0]);
    }

    [Fact]
    public void LanguageCodesElsewhereAreRemovedBeforeSentencePiece()
    {
        Assert.Equal(_tokenizer.TokenizeSource("Hello  world"), _tokenizer.TokenizeSource("Hello >>fr<< world"));
    }

    [Fact]
    public void TruncationKeepsFirstTokensAndEos()
    {
        const string text = "A group of people, including children and their parents, are standing near a fountain.";
        int[] full = _tokenizer.EncodeSource(text);
        int[] cut = _tokenizer.EncodeSource(text, 6, out bool truncated);
        Assert.True(truncated);
        Assert.Equal([.. full[..5], _tokenizer.EosId], cut);
        Assert.Equal(full, _tokenizer.EncodeSource(text, full.Length, out bool notTruncated));
        Assert.False(notTruncated);
        Assert.Equal([_tokenizer.EosId], _tokenizer.EncodeSource(text, 1, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => _tokenizer.EncodeSource(text, 0, out _));
    }

    [Fact]
    public void BatchTruncatesAndPadsRight()
    {
        EncodedBatch batch = _tokenizer.EncodeSourceBatch(["A man in an orange hat starring at something.", "x"], 5);
        Assert.Equal(2, batch.BatchSize);
        Assert.Equal(5, batch.SequenceLength);
        Assert.Equal([true, false], batch.Truncated);
        Assert.True(batch.AnyTruncated);
        int[] x = _tokenizer.EncodeSource("x");
        Assert.Equal([.. x, .. Enumerable.Repeat(_tokenizer.PadId, 5 - x.Length)], batch.Row(1).ToArray());
        Assert.Equal([1, 1, 1, 1, 1, .. Enumerable.Repeat(1, x.Length), .. Enumerable.Repeat(0, 5 - x.Length)], batch.AttentionMask);
        Assert.Equal([5, x.Length], batch.Lengths);
    }

    [Fact]
    public void EmptyBatchAndEmptyText()
    {
        EncodedBatch empty = _tokenizer.EncodeSourceBatch([]);
        Assert.Equal(0, empty.BatchSize);
        Assert.Empty(empty.InputIds);
        Assert.Equal([_tokenizer.EosId], _tokenizer.EncodeSource(""));
        Assert.Equal("", _tokenizer.Decode([]));
    }

    [Fact]
    public void DecodeKeepsOrDropsSpecialTokens()
    {
        int[] ids = [_tokenizer.PadId, .. _tokenizer.EncodeTarget("Hallo Welt!")];
        Assert.Equal("Hallo Welt!", _tokenizer.Decode(ids));
        Assert.Equal("<pad> Hallo Welt!</s>", _tokenizer.Decode(ids, skipSpecialTokens: false));
    }

    [Fact]
    public void CleanUpMatchesTransformers()
    {
        // " ' " is replaced before " 's", so the quote collapses too, exactly as transformers' replace chain does.
        Assert.Equal("Hello, world. Isn't it? Yes! It's'ok'",
            MarianTokenizer.CleanUpTokenization("Hello , world . Is n't it ? Yes ! It 's ' ok'"));
    }
}
