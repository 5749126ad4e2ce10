namespace GpuTransformer.Runtime.Cuda;

/// <summary>
/// A CUDA driver or NVRTC call failed. <see cref="ErrorCode"/> is the <c>CUresult</c> (or <c>nvrtcResult</c>) the call
/// returned, <see cref="ErrorName"/> its cuda.h name (<c>CUDA_ERROR_OUT_OF_MEMORY</c>, ...), and <see cref="Call"/>
/// the function that returned it.
/// </summary>
public sealed class CudaException : DeviceException
{
    /// <summary>Creates an exception with a default message.</summary>
    public CudaException()
        : this("A CUDA call failed.")
    {
    }

    /// <summary>Creates an exception with a message and no native code.</summary>
    /// <param name="message">What failed.</param>
    public CudaException(string message)
        : base(message)
    {
        ErrorName = "";
        Call = "";
    }

    /// <summary>Creates an exception with a message and its cause.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause.</param>
    public CudaException(string message, Exception? innerException)
        : base(message, innerException)
    {
        ErrorName = "";
        Call = "";
    }

    /// <summary>Creates an exception for a native call that returned <paramref name="errorCode"/>.</summary>
    /// <param name="call">The function that failed, e.g. <c>cuMemAlloc_v2</c>.</param>
    /// <param name="errorCode">What it returned.</param>
    /// <param name="errorName">The code's name, e.g. <c>CUDA_ERROR_OUT_OF_MEMORY</c>.</param>
    /// <param name="message">The whole message: what was being done, the call, the name and the driver's description.</param>
    public CudaException(string call, int errorCode, string errorName, string message)
        : base(message)
    {
        Call = call;
        ErrorCode = errorCode;
        ErrorName = errorName;
    }

    /// <summary>The native function that failed; empty when the failure was not a native call's.</summary>
    public string Call { get; }

    /// <summary>The <c>CUresult</c> or <c>nvrtcResult</c> it returned; 0 when there was none.</summary>
    public int ErrorCode { get; }

    /// <summary>The code's name (<c>CUDA_ERROR_NO_DEVICE</c>, <c>NVRTC_ERROR_COMPILATION</c>, ...); empty when there was none.</summary>
    public string ErrorName { get; }

    /// <summary>The cuda.h name of a <c>CUresult</c>, from a table of the common codes (no driver needed).</summary>
    /// <param name="code">The code.</param>
    /// <returns>E.g. <c>CUDA_ERROR_OUT_OF_MEMORY</c> for 2, or <c>CUresult N</c> for a code the table lacks.</returns>
    public static string NameOf(int code) => CudaErrorNames.Of(code);
}
