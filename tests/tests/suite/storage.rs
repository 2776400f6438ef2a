//! Blobs in S3-compatible object storage (issue 4 §5), against moto's S3 server on loopback.

use jijiao::db::q;
use jijiao_tests::services::S3Server;
use jijiao_tests::{Backend, TestServer, both, id_number, json_of};
use reqwest::multipart::Part;

use crate::common::*;

async fn licence_scans_are_stored_in_s3(backend: Backend) {
    let s3 = S3Server::start().await;
    // The bucket does not exist yet: the server creates it at start.
    let s = TestServer::start_with(backend, |config| s3.configure(config, "jijiao-blobs")).await;
    let credit = jijiao::ids::credit_code_with_check("12430102MB0000777");
    let form = org_form("unit", "长沙市芙蓉区云存储小学", &credit, "430102", &id_number("430102", "19800808", 12))
        .part("licence", Part::bytes(PDF.to_vec()).file_name("执照.pdf"));
    let (status, body) = json_of(s.client().post(s.api("hunan", "/registrations/orgs")).multipart(form).send().await.unwrap()).await;
    assert_eq!(status, 201, "{body}");

    // The approving county admin downloads the scan through the server.
    let county = county_admin(&s, "hunan", "430102", 23).await;
    let org = pending(&county, &s, "hunan").await[0]["subject_id"].as_i64().unwrap();
    let res = county.get(s.api("hunan", &format!("/orgs/{org}/licence"))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);

    // The object really is in the bucket, under the key the server recorded, and nothing went to disk.
    let (key,): (String,) = s.db.one(q("SELECT storage_key FROM blobs WHERE tenant_id = 'hunan'")).await.unwrap();
    let client = s3.client();
    let listed = client.list_objects_v2().bucket("jijiao-blobs").send().await.unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, vec![key.as_str()]);
    let object = client.get_object().bucket("jijiao-blobs").key(&key).send().await.unwrap();
    assert_eq!(object.content_type(), Some("application/pdf"));
    assert_eq!(object.body.collect().await.unwrap().into_bytes().as_ref(), PDF);
    assert!(!s.data_dir.join("blobs").exists(), "no local blob directory with the S3 backend");
}
both!(licence_scans_are_stored_in_s3, licence_scans_are_stored_in_s3, backend);
