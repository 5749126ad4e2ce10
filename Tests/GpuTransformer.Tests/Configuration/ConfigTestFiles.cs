using System.Text.Json.Nodes;
using GpuTransformer.Tests.Weights;

namespace GpuTransformer.Tests.Configuration;

internal static class ConfigTestFiles
{
    /// <summary>Copies the tiny Marian config.json into <paramref name="temp"/> after applying <paramref name="edit"/>.</summary>
    public static void WriteEditedConfig(TempDirectory temp, Action<JsonObject> edit)
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(WeightTestData.TinyMarian, "config.json")))!.AsObject();
        edit(config);
        File.WriteAllText(temp.File("config.json"), config.ToJsonString());
    }
}
