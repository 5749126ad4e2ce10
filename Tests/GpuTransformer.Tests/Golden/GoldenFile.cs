using System.Text.Json;

namespace GpuTransformer.Tests.Golden;

/// <summary>A fixture's <c>golden/golden_public.json</c>, written by the HF reference harness.</summary>
public sealed class GoldenFile
{
    private GoldenFile(string modelDirectory, JsonElement root)
    {
        ModelDirectory = modelDirectory;
        Root = root;
    }

    /// <summary>The fixture's model folder.</summary>
    public string ModelDirectory { get; }

    /// <summary>The whole document.</summary>
    public JsonElement Root { get; }

    /// <summary>Per-sentence cases.</summary>
    public IEnumerable<JsonElement> Cases => Root.GetProperty("cases").EnumerateArray();

    /// <summary>Padded batches.</summary>
    public IEnumerable<JsonElement> Batches => Root.TryGetProperty("batches", out var b) ? b.EnumerateArray() : [];

    /// <summary>Loads a fixture's golden.</summary>
    public static GoldenFile Load(string modelDirectory)
    {
        using var stream = File.OpenRead(Path.Combine(modelDirectory, "golden", "golden_public.json"));
        using var document = JsonDocument.Parse(stream);
        return new GoldenFile(modelDirectory, document.RootElement.Clone());
    }

    /// <summary>An int array.</summary>
    public static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();

    /// <summary>A (possibly nested) number array, flattened.</summary>
    public static List<double> Flat(JsonElement e)
    {
        var list = new List<double>();
        Flatten(e, list);
        return list;
    }

    /// <summary>A list of int arrays.</summary>
    public static int[][] IntRows(JsonElement e) => e.EnumerateArray().Select(Ints).ToArray();

    private static void Flatten(JsonElement e, List<double> list)
    {
        if (e.ValueKind == JsonValueKind.Array)
        {
            foreach (var x in e.EnumerateArray())
            {
                Flatten(x, list);
            }
        }
        else
        {
            list.Add(e.GetDouble());
        }
    }
}
