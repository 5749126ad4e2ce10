namespace GpuTransformer.Tests.Support;

/// <summary>Paths of the test data copied next to the test assembly (tests never read ../shared).</summary>
public static class TestData
{
    /// <summary>The fixtures whose goldens every backend must pass.</summary>
    public static readonly string[] MarianFixtures = ["tiny-marian-en-de", "tiny-marian-sep-vocab", "multi30k-en-de-small"];

    /// <summary>The mBART, M2M100, NLLB (model_type m2m_100) and Pegasus fixtures of testdata/reference/.</summary>
    public static readonly string[] FamilyFixtures = ["tiny-mbart", "tiny-m2m100", "tiny-nllb", "tiny-pegasus"];

    /// <summary>Every family's fixtures: Marian, BART, T5 (gated-gelu untied, and relu tied), mBART, M2M100, NLLB, Pegasus.</summary>
    public static readonly string[] AllFixtures = [.. MarianFixtures, "tiny-bart", "tiny-t5", "tiny-t5-tied-relu", .. FamilyFixtures];

    /// <summary>The folder of a fixture: a tiny test model under testdata/, or the bundled model under models/.</summary>
    public static string Model(string name)
    {
        string testdata = Path.Combine(AppContext.BaseDirectory, "testdata", name);
        if (Directory.Exists(testdata))
        {
            return testdata;
        }

        string bundled = Path.Combine(AppContext.BaseDirectory, "models", name);
        return Directory.Exists(bundled) ? bundled : throw new DirectoryNotFoundException($"test model '{name}' is not in {AppContext.BaseDirectory}");
    }

    /// <summary>A file under testdata/.</summary>
    public static string File(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "testdata", .. parts]);

    /// <summary>A fresh temporary directory, deleted by the returned handle.</summary>
    public static TempDirectory TempDirectory() => new();
}
