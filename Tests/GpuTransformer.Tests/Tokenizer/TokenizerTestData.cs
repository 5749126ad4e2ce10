using System.Text.Json;

namespace GpuTransformer.Tests.Tokenizer;

/// <summary>Locates test data copied next to the test assembly, so tests never depend on the source tree.</summary>
internal static class TokenizerTestData
{
    public static readonly string[] MarianFixtures =
    [
        "testdata/tiny-marian-en-de",
        "testdata/tiny-marian-sep-vocab",
        "models/multi30k-en-de-small",
    ];

    public static string PathOf(string relative) =>
        Path.Combine(AppContext.BaseDirectory, relative.Replace('/', Path.DirectorySeparatorChar));

    public static JsonDocument Json(string relative) => JsonDocument.Parse(File.ReadAllBytes(PathOf(relative)));

    public static int[] Ints(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetInt32())];

    public static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];

    public static IEnumerable<string> ReferenceFiles() =>
        Directory.EnumerateFiles(PathOf("testdata/tokenizer"), "reference_*.json").Select(Path.GetFileName).Order()!;
}
