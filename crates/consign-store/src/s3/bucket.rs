//! ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation.

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::auth::Caller;
use super::error::S3Error;
use super::request::{S3Request, validate_bucket_name};
use super::xml::XmlWriter;
use super::{iso_date, now_ms, read_xml_body, readable_bucket, xml_response};
use crate::Store;

/// `GET /`: the buckets the caller may read.
pub fn list_buckets(store: &Store, caller: &Caller<'_>) -> Result<Response, S3Error> {
    let mut xml = XmlWriter::new();
    xml.root("ListAllMyBucketsResult");
    xml.person("Owner", &caller.key.id);
    xml.open("Buckets");
    for bucket in store.storage().buckets() {
        if caller.key.can_read(bucket.name()) || caller.key.can_write(bucket.name()) {
            xml.open("Bucket");
            xml.element("Name", bucket.name());
            xml.element("CreationDate", &iso_date(bucket.config().created_ms));
            xml.element("BucketRegion", &store.config().region);
            xml.close("Bucket");
        }
    }
    xml.close("Buckets");
    xml.close("ListAllMyBucketsResult");
    Ok(xml_response(StatusCode::OK, xml.finish()))
}

/// `PUT /bucket`, with an optional `CreateBucketConfiguration` body whose
/// `LocationConstraint` must be this store's region.
pub async fn create_bucket(
    store: &Store,
    request: &S3Request,
    caller: &Caller<'_>,
    body: Body,
) -> Result<Response, S3Error> {
    let name = request.require_bucket()?;
    if !caller.key.can_manage_buckets() {
        return Err(S3Error::access_denied(format!("the access key {} may not create buckets", caller.key.id)));
    }
    validate_bucket_name(name)?;
    let has_body = request.header("content-length").is_some_and(|l| l.trim() != "0");
    if has_body {
        let config = read_xml_body(body, store.config().limits.max_xml_body, &caller.verified.payload).await?;
        let constraint = config.child_text("LocationConstraint").unwrap_or("").trim();
        let region = &store.config().region;
        let matches = constraint == region || (constraint.is_empty() && region == "us-east-1");
        if !matches {
            return Err(S3Error::new(
                "IllegalLocationConstraintException",
                StatusCode::BAD_REQUEST,
                format!(
                    "The {constraint:?} location constraint is incompatible with this store, whose region is {region:?}"
                ),
            ));
        }
    }
    let created = store.storage().create_bucket(name, now_ms()).map_err(|e| S3Error::internal(&e))?;
    if !created {
        return Err(S3Error::new(
            "BucketAlreadyOwnedByYou",
            StatusCode::CONFLICT,
            "Your previous request to create the named bucket succeeded and you already own it.",
        )
        .with("BucketName", name));
    }
    let mut response = StatusCode::OK.into_response();
    if let Ok(location) = format!("/{name}").parse() {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// `HEAD /bucket`.
pub fn head_bucket(store: &Store, request: &S3Request, caller: &Caller<'_>) -> Result<Response, S3Error> {
    readable_bucket(store, request, caller)?;
    let mut response = StatusCode::OK.into_response();
    if let Ok(region) = store.config().region.parse() {
        response.headers_mut().insert("x-amz-bucket-region", region);
    }
    Ok(response)
}

/// `DELETE /bucket`: only an empty bucket.
pub fn delete_bucket(store: &Store, request: &S3Request, caller: &Caller<'_>) -> Result<Response, S3Error> {
    let name = request.require_bucket()?;
    if !caller.key.can_manage_buckets() {
        return Err(S3Error::access_denied(format!("the access key {} may not delete buckets", caller.key.id)));
    }
    if store.storage().bucket(name).is_none() {
        return Err(S3Error::no_such_bucket(name));
    }
    if !store.storage().uploads(name).map_err(|e| S3Error::internal(&e))?.is_empty()
        || !store.storage().delete_bucket(name).map_err(|e| S3Error::internal(&e))?
    {
        return Err(S3Error::new(
            "BucketNotEmpty",
            StatusCode::CONFLICT,
            "The bucket you tried to delete is not empty",
        )
        .with("BucketName", name));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /bucket?location`.
pub fn get_location(store: &Store, request: &S3Request, caller: &Caller<'_>) -> Result<Response, S3Error> {
    readable_bucket(store, request, caller)?;
    let mut xml = XmlWriter::new();
    xml.root("LocationConstraint");
    // S3 writes an empty constraint for us-east-1.
    if store.config().region != "us-east-1" {
        xml.text(&store.config().region);
    }
    xml.close("LocationConstraint");
    Ok(xml_response(StatusCode::OK, xml.finish()))
}
