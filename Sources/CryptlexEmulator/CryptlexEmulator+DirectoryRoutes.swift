import Hummingbird

/// `/v3/organizations` and `/v3/resellers`: create (schema-checked), list with their filters and
/// paging (subject to the lookup-lag fault, as license lists are), read, update and delete —
/// through the same gate as every `/v3` route (count, rate limit, token, faults).
extension CryptlexEmulator {
    func addDirectoryRoutes(to router: Router<EmulatorContext>) {
        router.post("/v3/organizations") { request, context in
            try await self.serve(request, context, counting: .organizationCreate) { body in
                let fields = try self.decodeBody(body, schema: "OrganizationCreateRequestModel")
                return (.created, try await self.store.createOrganization(fields, nowTicks: self.clock.nowTicks))
            }
        }
        router.post("/v3/resellers") { request, context in
            try await self.serve(request, context, counting: .resellerCreate) { body in
                let fields = try self.decodeBody(body, schema: "ResellerCreateRequestModel")
                return (.created, await self.store.createReseller(fields, nowTicks: self.clock.nowTicks))
            }
        }
        router.get("/v3/organizations") { request, context in
            try await self.serve(request, context) { _ in
                let filter = try DirectoryFilter(query: Self.queryItems(request.uri.query), byReseller: true)
                return (
                    .ok, .array(await self.store.findOrganizations(filter, visibleBefore: await self.visibleBefore()))
                )
            }
        }
        router.get("/v3/resellers") { request, context in
            try await self.serve(request, context) { _ in
                let filter = try DirectoryFilter(query: Self.queryItems(request.uri.query), byReseller: false)
                return (.ok, .array(await self.store.findResellers(filter, visibleBefore: await self.visibleBefore())))
            }
        }
        router.get("/v3/organizations/:id") { request, context in
            try await self.serve(request, context) { _ in
                (.ok, try await self.store.organization(id: context.parameters.get("id") ?? ""))
            }
        }
        router.get("/v3/resellers/:id") { request, context in
            try await self.serve(request, context) { _ in
                (.ok, try await self.store.reseller(id: context.parameters.get("id") ?? ""))
            }
        }
        router.patch("/v3/organizations/:id") { request, context in
            try await self.serve(request, context) { body in
                let fields = try self.decodeBody(body, schema: "OrganizationUpdateRequestModel")
                return (
                    .ok,
                    try await self.store.updateOrganization(
                        id: context.parameters.get("id") ?? "", fields, nowTicks: self.clock.nowTicks)
                )
            }
        }
        router.patch("/v3/resellers/:id") { request, context in
            try await self.serve(request, context) { body in
                let fields = try self.decodeBody(body, schema: "ResellerUpdateRequestModel")
                return (
                    .ok,
                    try await self.store.updateReseller(
                        id: context.parameters.get("id") ?? "", fields, nowTicks: self.clock.nowTicks)
                )
            }
        }
        router.delete("/v3/organizations/:id") { request, context in
            try await self.serve(request, context) { _ in
                try await self.store.deleteOrganization(id: context.parameters.get("id") ?? "")
                return (.noContent, .null)
            }
        }
        router.delete("/v3/resellers/:id") { request, context in
            try await self.serve(request, context) { _ in
                try await self.store.deleteReseller(id: context.parameters.get("id") ?? "")
                return (.noContent, .null)
            }
        }
    }

    /// What a list may show now: records created before the lookup lag (the fault) are listed.
    func visibleBefore() async -> Int64 {
        self.clock.nowTicks - Int64(await faults.current().lookupLagMilliseconds) * 10_000
    }
}
