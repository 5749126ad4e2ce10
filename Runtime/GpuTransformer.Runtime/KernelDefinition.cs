namespace GpuTransformer.Runtime;

/// <summary>
/// A kernel as the generator emitted it: its OpenCL C and CUDA C programs and what a backend needs to launch it.
/// Generated code creates one per <see cref="KernelAttribute"/> method; backends compile each once per accelerator.
/// </summary>
/// <remarks>
/// Calling convention of the generated sources, which backends follow when they set arguments: each view parameter
/// <c>p</c> becomes three OpenCL arguments (<c>__global T* p_base, int p_offset, int p_length</c>) and two CUDA
/// arguments (<c>T* p, int p_length</c>, the pointer already offset by the host); each scalar becomes one argument.
/// The CUDA entry point is <c>extern "C"</c>, so its name is <see cref="Name"/> unmangled.
/// </remarks>
public sealed class KernelDefinition
{
    /// <summary>Describes a generated kernel.</summary>
    /// <param name="name">The C entry-point name, unique in the assembly.</param>
    /// <param name="sourceMethod">The C# method it was generated from (<c>Namespace.Type.Method</c>), for messages.</param>
    /// <param name="openCLSource">A complete OpenCL C program containing the kernel.</param>
    /// <param name="cudaSource">A complete CUDA C program containing the kernel.</param>
    /// <param name="parameters">The C# parameters, in order.</param>
    /// <param name="usesBarriers">Whether the body (or a helper it calls) calls <see cref="Group.Barrier"/>.</param>
    /// <param name="sharedMemoryBytes">Bytes of group-shared memory the body allocates.</param>
    public KernelDefinition(string name, string sourceMethod, string openCLSource, string cudaSource, KernelParameter[] parameters, bool usesBarriers, int sharedMemoryBytes)
    {
        Name = name;
        SourceMethod = sourceMethod;
        OpenCLSource = openCLSource;
        CudaSource = cudaSource;
        Parameters = parameters;
        UsesBarriers = usesBarriers;
        SharedMemoryBytes = sharedMemoryBytes;
    }

    /// <summary>The C entry-point name.</summary>
    public string Name { get; }

    /// <summary>The C# method the kernel was generated from.</summary>
    public string SourceMethod { get; }

    /// <summary>The OpenCL C program.</summary>
    public string OpenCLSource { get; }

    /// <summary>The CUDA C program.</summary>
    public string CudaSource { get; }

    /// <summary>The parameters, in order.</summary>
    public IReadOnlyList<KernelParameter> Parameters { get; }

    /// <summary>Whether work-items of a group synchronise, so the emulator must run them concurrently.</summary>
    public bool UsesBarriers { get; }

    /// <summary>Group-shared memory in bytes.</summary>
    public int SharedMemoryBytes { get; }

    /// <inheritdoc />
    public override string ToString() => $"kernel {Name} ({SourceMethod})";
}
