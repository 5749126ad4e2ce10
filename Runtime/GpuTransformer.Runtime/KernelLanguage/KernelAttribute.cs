namespace GpuTransformer.Runtime;

/// <summary>
/// Marks a static method as a device kernel. The kernel generator translates its body into OpenCL C and CUDA C at
/// build time and emits a typed launcher beside it; the same method runs unchanged on the kernel emulator.
/// </summary>
/// <remarks>
/// A kernel returns <see langword="void"/>, lives in a <see langword="partial"/> class, and takes
/// <see cref="ArrayView{T}"/> and <see langword="int"/>, <see langword="uint"/>, <see langword="long"/> or
/// <see langword="float"/> parameters. See docs/kernel-language.md for what its body may contain.
/// </remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class KernelAttribute : Attribute
{
}
