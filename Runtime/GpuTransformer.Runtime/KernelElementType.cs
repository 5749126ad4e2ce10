namespace GpuTransformer.Runtime;

/// <summary>The element or scalar types kernels exchange with the host.</summary>
public enum KernelElementType
{
    /// <summary><see langword="float"/>: OpenCL/CUDA <c>float</c>.</summary>
    Float32,

    /// <summary><see langword="int"/>: <c>int</c>.</summary>
    Int32,

    /// <summary><see langword="uint"/>: OpenCL <c>uint</c>, CUDA <c>unsigned int</c>.</summary>
    UInt32,

    /// <summary><see langword="long"/>: OpenCL <c>long</c>, CUDA <c>long long</c>.</summary>
    Int64,
}
