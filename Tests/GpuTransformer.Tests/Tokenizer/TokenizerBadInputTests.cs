using GpuTransformer.Tokenizer;
using Xunit;

namespace GpuTransformer.Tests.Tokenizer;

/// <summary>Missing and corrupt tokenizer files and invalid text give clear exceptions, never crashes.</summary>
public sealed class TokenizerBadInputTests : IDisposable
{
    private static readonly string[] TokenizerFiles =
        ["source.spm", "target.spm", "vocab.json", "target_vocab.json", "tokenizer_config.json", "special_tokens_map.json"];

    private readonly string _temp = Directory.CreateTempSubdirectory("gpt-tokenizer-tests-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    [Fact]
    public void MissingSourceSpmNamesTheFile()
    {
        string dir = CopyFixture("testdata/tiny-marian-en-de");
        File.Delete(Path.Combine(dir, "source.spm"));
        var ex = Assert.Throws<FileNotFoundException>(() => MarianTokenizer.Load(dir));
        Assert.Equal(Path.Combine(dir, "source.spm"), ex.FileName);
        Assert.Contains("source.spm", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("testdata/tiny-marian-en-de", "vocab.json")]
    [InlineData("testdata/tiny-marian-en-de", "target.spm")]
    [InlineData("testdata/tiny-marian-sep-vocab", "target_vocab.json")]
    public void MissingRequiredFileNamesTheFile(string fixture, string file)
    {
        string dir = CopyFixture(fixture);
        File.Delete(Path.Combine(dir, file));
        var ex = Assert.Throws<FileNotFoundException>(() => MarianTokenizer.Load(dir));
        Assert.Equal(Path.Combine(dir, file), ex.FileName);
    }

    [Fact]
    public void MissingFolderIsReported()
    {
        Assert.Throws<DirectoryNotFoundException>(() => MarianTokenizer.Load(Path.Combine(_temp, "nope")));
    }

    [Fact]
    public void MissingModelFileNamesThePath()
    {
        string path = Path.Combine(_temp, "missing.spm");
        var ex = Assert.Throws<FileNotFoundException>(() => SentencePieceModel.Load(path));
        Assert.Equal(path, ex.FileName);
    }

    [Fact]
    public void TruncatedModelIsAFormatErrorAtEveryCut()
    {
        byte[] data = File.ReadAllBytes(TokenizerTestData.PathOf("testdata/tiny-marian-en-de/source.spm"));
        var cuts = new SortedSet<int> { 0, 1, 2, 5, 10, 100, data.Length / 2 };
        for (int i = 1; i <= 300; i++)
        {
            cuts.Add((int)((long)data.Length * i / 301));
        }

        for (int i = 1; i <= 64; i++)
        {
            cuts.Add(data.Length - i);
        }

        foreach (int cut in cuts)
        {
            var ex = Assert.Throws<TokenizerFormatException>(() => SentencePieceModel.Load(data[..cut], "source.spm"));
            Assert.Equal("source.spm", ex.FilePath);
            Assert.Contains("source.spm", ex.Message, StringComparison.Ordinal);
            Assert.StartsWith("ModelProto", ex.Field, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(2000, "ModelProto.pieces")]
    [InlineData(100000, "ModelProto.normalizer_spec")]
    public void TruncatedModelFileInFolderNamesFileAndField(int length, string field)
    {
        // The pieces take the first ~10 kB of this model; the precompiled charsmap makes up most of the rest.
        string dir = CopyFixture("testdata/tiny-marian-en-de");
        string path = Path.Combine(dir, "source.spm");
        byte[] data = File.ReadAllBytes(path);
        File.WriteAllBytes(path, data[..length]);
        var ex = Assert.Throws<TokenizerFormatException>(() => MarianTokenizer.Load(dir));
        Assert.Equal(path, ex.FilePath);
        Assert.StartsWith(field, ex.Field, StringComparison.Ordinal);
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains(ex.Field, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GarbageIsAFormatError()
    {
        var random = new Random(1234);
        for (int i = 0; i < 200; i++)
        {
            byte[] data = new byte[random.Next(1, 400)];
            random.NextBytes(data);
            Assert.Throws<TokenizerFormatException>(() => SentencePieceModel.Load(data, "garbage"));
        }

        Assert.Throws<TokenizerFormatException>(() => SentencePieceModel.Load("{\"not\": \"a model\"}"u8.ToArray(), "json"));
    }

    [Fact]
    public void FlippedBytesNeverEscapeAsOtherExceptions()
    {
        byte[] original = File.ReadAllBytes(TokenizerTestData.PathOf("testdata/tiny-marian-en-de/source.spm"));
        var random = new Random(42);
        for (int i = 0; i < 200; i++)
        {
            byte[] data = (byte[])original.Clone();
            for (int k = 0; k < 4; k++)
            {
                data[random.Next(data.Length)] = (byte)random.Next(256);
            }

            try
            {
                var model = SentencePieceModel.Load(data, "flipped");
                model.EncodeAsIds("A man in an orange hat starring at something.");
            }
            catch (TokenizerFormatException)
            {
            }
        }
    }

    [Theory]
    [InlineData("{\"</s>\": 0, \"<unk>\": 1,")]
    [InlineData("[1, 2, 3]")]
    [InlineData("{\"</s>\": 0, \"<unk>\": \"one\"}")]
    [InlineData("{\"</s>\": 0, \"<unk>\": 1.5}")]
    [InlineData("{\"</s>\": 0, \"<pad>\": 2}")]
    public void BadVocabJsonNamesTheFile(string json)
    {
        string dir = CopyFixture("testdata/tiny-marian-en-de");
        string path = Path.Combine(dir, "vocab.json");
        File.WriteAllText(path, json);
        var ex = Assert.Throws<TokenizerFormatException>(() => MarianTokenizer.Load(dir));
        Assert.Equal(path, ex.FilePath);
        Assert.Contains("vocab.json", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"model_max_length\": \"long\"}")]
    [InlineData("{\"clean_up_tokenization_spaces\": 3}")]
    public void BadTokenizerConfigNamesTheFile(string json)
    {
        string dir = CopyFixture("testdata/tiny-marian-en-de");
        string path = Path.Combine(dir, "tokenizer_config.json");
        File.WriteAllText(path, json);
        var ex = Assert.Throws<TokenizerFormatException>(() => MarianTokenizer.Load(dir));
        Assert.Equal(path, ex.FilePath);
    }

    // Attribute arguments are stored as UTF-8 in metadata, which would turn lone surrogates into U+FFFD, so the
    // texts are built here and selected by number.
    private static readonly (string Text, int Index)[] LoneSurrogateTexts =
    [
        ("abc" + (char)0xD800 + "def", 3),
        (((char)0xDC00).ToString(), 0),
        ("ok \uD83D\uDE00 then lone " + (char)0xD83D, 16),
        ("low " + (char)0xDE00 + (char)0xD83D, 4),
    ];

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void LoneSurrogatesAreRejectedWithTheirIndex(int number)
    {
        var (text, index) = LoneSurrogateTexts[number];
        var tokenizer = MarianTokenizer.Load(TokenizerTestData.PathOf("testdata/tiny-marian-en-de"));
        var ex = Assert.Throws<ArgumentException>(() => tokenizer.EncodeSource(text));
        Assert.Contains($"index {index}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("surrogate", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => tokenizer.EncodeTarget(text));
        Assert.Throws<ArgumentException>(() => tokenizer.TokenizeSource(text));
        var batchError = Assert.Throws<ArgumentException>(() => tokenizer.EncodeSourceBatch(["fine", text]));
        Assert.Contains("Text 1", batchError.Message, StringComparison.Ordinal);
        var spmError = Assert.Throws<ArgumentException>(() => tokenizer.SourceModel.EncodeAsPieces(text));
        Assert.Contains($"index {index}", spmError.Message, StringComparison.Ordinal);
    }

    private string CopyFixture(string fixture)
    {
        string dir = Path.Combine(_temp, Path.GetFileName(fixture));
        Directory.CreateDirectory(dir);
        foreach (string file in TokenizerFiles)
        {
            string source = TokenizerTestData.PathOf($"{fixture}/{file}");
            if (File.Exists(source))
            {
                File.Copy(source, Path.Combine(dir, file));
            }
        }

        return dir;
    }
}
