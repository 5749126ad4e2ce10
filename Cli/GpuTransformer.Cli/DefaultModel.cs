namespace GpuTransformer.Cli;

/// <summary>The model used when <c>--model</c> is omitted: the bundled multi30k-en-de-small (English to German).</summary>
public static class DefaultModel
{
    /// <summary>The bundled model's folder name.</summary>
    public const string Name = "multi30k-en-de-small";

    /// <summary>Finds the bundled model next to the tool, or in the repository the tool runs from.</summary>
    public static string Locate()
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "models", Name);
                if (File.Exists(Path.Combine(candidate, "config.json")))
                {
                    return candidate;
                }
            }
        }

        throw new DirectoryNotFoundException($"no --model given and the bundled model models/{Name} was not found next to the tool");
    }
}
