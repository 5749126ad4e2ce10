namespace GpuTransformer.Kernels.Generator;

/// <summary>The C dialects a kernel is translated to.</summary>
internal enum CDialect
{
    /// <summary>OpenCL C 1.2: address-space qualifiers, views passed as base + offset + length.</summary>
    OpenCL,

    /// <summary>CUDA C (NVRTC): <c>extern "C" __global__</c> entry points, views passed as offset pointer + length.</summary>
    Cuda,
}
