using System.Globalization;

namespace GpuTransformer.Runtime.OpenCL;

/// <summary>
/// Lists the devices of every OpenCL platform (GPUs, CPUs, other accelerators) as <c>opencl:0</c>, <c>opencl:1</c>,
/// ... in platform order, and opens them. The ICD loader is loaded, and the platforms asked, once per process.
/// </summary>
internal sealed unsafe class OpenCLProvider : IDeviceProvider
{
    private readonly Lazy<Inventory> inventory = new(Find);

    /// <summary>The provider <see cref="DeviceCatalog"/> uses.</summary>
    public static OpenCLProvider Instance { get; } = new();

    public string Prefix => "opencl";

    public IReadOnlyList<DeviceDescription> Enumerate(out string? problem)
    {
        var found = inventory.Value;
        problem = found.Problem;
        return found.Descriptions;
    }

    public Accelerator Open(int index)
    {
        var found = inventory.Value;
        if (found.Api is null || (uint)index >= (uint)found.Devices.Length)
        {
            throw new NotSupportedException($"device 'opencl:{index}' is not available ({found.Problem ?? $"{found.Devices.Length} OpenCL devices"})");
        }

        var (platform, device) = found.Devices[index];
        return new OpenCLAccelerator(found.Api, platform, device, found.Descriptions[index]);
    }

    private static Inventory Find()
    {
        var api = OpenCLApi.TryGet(out string? problem);
        if (api is null)
        {
            return new Inventory(null, [], [], problem);
        }

        try
        {
            uint count;
            int status = api.GetPlatformIDs(0, null, &count);
            if (status == OpenCLApi.PlatformNotFoundKhr || (status == OpenCLApi.Success && count == 0))
            {
                return new Inventory(api, [], [], "no OpenCL platforms (the ICD loader found no driver in /etc/OpenCL/vendors)");
            }

            OpenCLApi.Check(status, "clGetPlatformIDs");
            nint[] platforms = new nint[count];
            fixed (nint* p = platforms)
            {
                OpenCLApi.Check(api.GetPlatformIDs(count, p, null), "clGetPlatformIDs");
            }

            var devices = new List<(nint, nint)>();
            var descriptions = new List<DeviceDescription>();
            var skipped = new List<string>();
            foreach (nint platform in platforms)
            {
                string platformName = api.PlatformString(platform, OpenCLApi.PlatformName);
                try
                {
                    foreach (nint device in Devices(api, platform))
                    {
                        if (api.DeviceValue<uint>(device, OpenCLApi.DeviceAvailable) == 0)
                        {
                            skipped.Add($"{platformName}: {api.DeviceString(device, OpenCLApi.DeviceName)} is not available");
                            continue;
                        }

                        descriptions.Add(Describe(api, platformName, device, descriptions.Count));
                        devices.Add((platform, device));
                    }
                }
                catch (OpenCLException e)
                {
                    skipped.Add($"{platformName}: {e.Message}");
                }
            }

            string? why = descriptions.Count > 0 ? null
                : skipped.Count > 0 ? string.Join("; ", skipped)
                : $"no devices on the OpenCL platforms ({string.Join(", ", platforms.Select(p => api.PlatformString(p, OpenCLApi.PlatformName)))})";
            return new Inventory(api, [.. devices], [.. descriptions], why);
        }
        catch (OpenCLException e)
        {
            return new Inventory(api, [], [], e.Message);
        }
    }

    private static nint[] Devices(OpenCLApi api, nint platform)
    {
        uint count;
        int status = api.GetDeviceIDs(platform, OpenCLApi.DeviceTypeAll, 0, null, &count);
        if (status == -1 || count == 0)
        {
            // CL_DEVICE_NOT_FOUND: a platform without devices of any type.
            return [];
        }

        OpenCLApi.Check(status, "clGetDeviceIDs");
        nint[] devices = new nint[count];
        fixed (nint* d = devices)
        {
            OpenCLApi.Check(api.GetDeviceIDs(platform, OpenCLApi.DeviceTypeAll, count, d, null), "clGetDeviceIDs");
        }

        return devices;
    }

    private static DeviceDescription Describe(OpenCLApi api, string platformName, nint device, int index)
    {
        ulong type = api.DeviceValue<ulong>(device, OpenCLApi.DeviceType);
        string deviceVersion = api.DeviceString(device, OpenCLApi.DeviceVersion);
        string languageVersion = api.DeviceString(device, OpenCLApi.DeviceOpenCLCVersion);
        string driverVersion = api.DeviceString(device, OpenCLApi.DriverVersion);
        return new DeviceDescription
        {
            Id = string.Create(CultureInfo.InvariantCulture, $"opencl:{index}"),
            Kind = AcceleratorKind.OpenCL,
            Name = api.DeviceString(device, OpenCLApi.DeviceName),
            MemoryBytes = (long)Math.Min(api.DeviceValue<ulong>(device, OpenCLApi.DeviceGlobalMemSize), long.MaxValue),
            Version = $"{deviceVersion}, {languageVersion}, driver {driverVersion}",
            ComputeUnits = (int)api.DeviceValue<uint>(device, OpenCLApi.DeviceMaxComputeUnits),
            IsGpu = (type & OpenCLApi.DeviceTypeGpu) != 0,
            Platform = platformName,
            MaxGroupSize = (int)Math.Min(api.DeviceValue<nuint>(device, OpenCLApi.DeviceMaxWorkGroupSize), int.MaxValue),
            MaxSharedMemoryBytes = (int)Math.Min(api.DeviceValue<ulong>(device, OpenCLApi.DeviceLocalMemSize), int.MaxValue),
        };
    }

    private sealed record Inventory(OpenCLApi? Api, (nint Platform, nint Device)[] Devices, DeviceDescription[] Descriptions, string? Problem);
}
