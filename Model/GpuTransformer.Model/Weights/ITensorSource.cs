namespace GpuTransformer.Model.Weights;

/// <summary>What <see cref="WeightStore"/> needs from a weight file format.</summary>
internal interface ITensorSource : IDisposable
{
    string FilePath { get; }

    IReadOnlyCollection<string> Names { get; }

    bool Contains(string name);

    TensorInfo GetInfo(string name);

    void ReadFloat32(string name, Span<float> destination);
}
