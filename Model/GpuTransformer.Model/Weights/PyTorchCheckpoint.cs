namespace GpuTransformer.Model.Weights;

/// <summary>A PyTorch <c>torch.save</c> checkpoint (zip + pickle), read without running any pickled code.</summary>
public sealed class PyTorchCheckpoint : IDisposable, ITensorSource
{
    private PyTorchCheckpoint(string filePath)
    {
        FilePath = filePath;
    }

    /// <summary>The path the checkpoint was opened from.</summary>
    public string FilePath { get; }

    /// <summary>Tensor names in pickle order.</summary>
    public IReadOnlyCollection<string> Names => [];

    /// <summary>Opens a checkpoint.</summary>
    /// <param name="path">Path of the <c>pytorch_model.bin</c>.</param>
    /// <returns>The opened checkpoint.</returns>
    /// <exception cref="NotSupportedException">Always, for now.</exception>
    public static PyTorchCheckpoint Open(string path) =>
        throw new NotSupportedException($"Reading PyTorch checkpoints ('{path}') is not implemented yet; use model.safetensors.");

    /// <summary>Whether the checkpoint holds a tensor of this name.</summary>
    /// <param name="name">Tensor name.</param>
    /// <returns><see langword="true"/> when present.</returns>
    public bool Contains(string name) => false;

    /// <summary>Returns the dtype and shape of a tensor.</summary>
    /// <param name="name">Tensor name.</param>
    /// <returns>Its description.</returns>
    /// <exception cref="ModelFormatException">No tensor of that name is in the file.</exception>
    public TensorInfo GetInfo(string name) => throw new ModelFormatException(FilePath, name, "no tensor of this name is in the file.");

    /// <summary>Reads a tensor as float32.</summary>
    /// <param name="name">Tensor name.</param>
    /// <param name="destination">Receives the values.</param>
    /// <exception cref="ModelFormatException">No tensor of that name is in the file.</exception>
    public void ReadFloat32(string name, Span<float> destination) => GetInfo(name);

    /// <summary>Releases the file.</summary>
    public void Dispose()
    {
    }
}
