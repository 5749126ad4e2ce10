namespace GpuTransformer.Runtime;

/// <summary>One parameter of a kernel as the generator declared it in the OpenCL C and CUDA C source.</summary>
/// <param name="Name">The C# parameter name.</param>
/// <param name="IsView">An <see cref="ArrayView{T}"/> (pointer, offset and length) rather than a scalar.</param>
/// <param name="ElementType">The scalar type, or the view's element type.</param>
public readonly record struct KernelParameter(string Name, bool IsView, KernelElementType ElementType);
