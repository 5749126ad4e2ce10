namespace GpuTransformer.Runtime;

/// <summary>The backends an <see cref="Accelerator"/> can be.</summary>
public enum AcceleratorKind
{
    /// <summary>Hand-written SIMD C# on the host; ops call their CPU implementations, no kernels are launched.</summary>
    Cpu,

    /// <summary>The C# kernels themselves, work-group by work-group on CPU threads.</summary>
    Emulator,

    /// <summary>Generated OpenCL C through the system's OpenCL ICD loader.</summary>
    OpenCL,

    /// <summary>Generated CUDA C compiled with NVRTC and run through the CUDA driver API.</summary>
    Cuda,
}
